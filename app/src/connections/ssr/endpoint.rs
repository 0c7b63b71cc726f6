//! A custom endpoint typed by a user: a plain http(s) origin, nothing else.

use http::Uri;

use crate::error::AppError;

/// Empty → `None` (AWS). Otherwise an origin like `https://minio.example.com:9000`, returned
/// without a trailing slash. User info, paths, queries and fragments are refused: an endpoint
/// is where requests go, and nothing else may ride along in it.
pub fn parse(input: &str) -> Result<Option<String>, AppError> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    let uri: Uri = input.parse().map_err(|_| AppError::EndpointInvalid)?;
    let scheme_ok = matches!(uri.scheme_str(), Some("https" | "http"));
    let Some(authority) = uri.authority() else {
        return Err(AppError::EndpointInvalid);
    };
    let bare = !authority.as_str().contains('@')
        && !authority.host().is_empty()
        && matches!(uri.path(), "" | "/")
        && uri.query().is_none()
        && !input.contains('#');
    if !(scheme_ok && bare) {
        return Err(AppError::EndpointInvalid);
    }
    Ok(Some(format!(
        "{}://{}",
        uri.scheme_str().unwrap_or("https"),
        authority
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_accepted_and_normalised() {
        assert_eq!(parse("  ").unwrap(), None);
        assert_eq!(
            parse("https://minio.example.com:9000/").unwrap().as_deref(),
            Some("https://minio.example.com:9000")
        );
        assert_eq!(
            parse("http://10.0.0.5:7480").unwrap().as_deref(),
            Some("http://10.0.0.5:7480")
        );
    }

    #[test]
    fn anything_more_than_an_origin_is_refused() {
        for bad in [
            "minio.example.com",
            "ftp://minio.example.com",
            "https://user:pw@minio.example.com",
            "https://minio.example.com/bucket",
            "https://minio.example.com/?x=1",
            "https://minio.example.com/#x",
            "https://",
        ] {
            assert_eq!(parse(bad), Err(AppError::EndpointInvalid), "{bad}");
        }
    }
}
