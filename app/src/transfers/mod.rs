//! Transfers: object bytes go straight between the browser and S3. Crossview only signs: each
//! link is presigned with credentials assumed for that one key and that one action.

mod preview;
#[cfg(feature = "ssr")]
pub mod ssr;
mod upload;
#[cfg(feature = "hydrate")]
mod xhr;

use leptos::{
    prelude::*,
    server_fn::codec::{GetUrl, Json},
};
pub use preview::{preview_kind, Preview, PreviewKind};
use serde::{Deserialize, Serialize};
pub use upload::{cors_rule, Uploader, Uploads};

use crate::{error::AppError, url::encode};

/// S3's smallest part (all but the last) and its most parts per upload.
const MIN_PART: u64 = 5 << 20;
const MAX_PARTS: u64 = 10_000;
/// Parts of this size unless the file is so large that 10,000 would not hold it.
const PREFERRED_PART: u64 = 8 << 20;
/// S3's largest object.
pub const MAX_OBJECT: u64 = 5 << 40;

/// What a deployment accepts as uploads and how large files travel (from the environment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadRules {
    /// Files larger than this go as multipart uploads (default 16 MiB).
    pub multipart_threshold: u64,
    /// Parts the browser sends at once (default 4).
    pub parallel_parts: u32,
    /// Largest file accepted, if limited.
    pub max_bytes: Option<u64>,
    /// Accepted content types (`image/png`, `image/*`) and extensions (`.csv`); empty: any.
    pub allowed: Vec<String>,
}

impl UploadRules {
    /// Refuses a file the deployment does not accept, before anything is signed.
    pub fn check(&self, name: &str, content_type: &str, size: u64) -> Result<(), AppError> {
        let max = self.max_bytes.unwrap_or(MAX_OBJECT).min(MAX_OBJECT);
        if size > max {
            return Err(AppError::UploadTooLarge {
                max: human_size(max),
            });
        }
        let name = name.to_lowercase();
        let content_type = content_type.to_lowercase();
        let accepted = self.allowed.is_empty()
            || self
                .allowed
                .iter()
                .any(|rule| match rule.strip_suffix("/*") {
                    _ if rule.starts_with('.') => name.ends_with(rule.as_str()),
                    Some(family) => content_type.split('/').next() == Some(family),
                    None => content_type == *rule,
                });
        match accepted {
            true => Ok(()),
            false => Err(AppError::UploadTypeRefused {
                allowed: self.allowed.join(", "),
            }),
        }
    }

    /// The part size for a multipart upload of `size` bytes: 8 MiB, or larger (in whole MiB)
    /// when 10,000 parts of 8 MiB would not hold the file.
    pub fn part_size(size: u64) -> u64 {
        let needed = size.div_ceil(MAX_PARTS).div_ceil(1 << 20) << 20;
        needed.max(PREFERRED_PART).max(MIN_PART)
    }
}

/// Sizes in binary units, as the listing shows them.
pub fn human_size(bytes: u64) -> String {
    crate::browse::location::human_size(bytes as i64)
}

/// How the browser sends one file, decided (and signed) by the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UploadPlan {
    /// One presigned PUT, to be sent with this `Content-Type`.
    Single { url: String, content_type: String },
    /// A multipart upload already created: `parts` parts of `part_size` bytes (the last one
    /// shorter), sent `parallel` at a time on URLs fetched in batches.
    Multipart {
        upload_id: String,
        part_size: u64,
        parts: u32,
        parallel: u32,
    },
}

/// One part the browser sent, with the ETag S3 answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentPart {
    pub number: i32,
    pub etag: String,
}

/// A presigned GET that shows the object in the page (inline; text as plain text, so an HTML
/// object is never rendered as a page).
#[server(endpoint = "preview", input = Json)]
pub async fn preview_url(
    connection: i64,
    bucket: String,
    key: String,
    kind: PreviewKind,
) -> Result<String, AppError> {
    ssr::for_key(connection, &bucket, &key, async |target| {
        ssr::preview_url(target, kind).await
    })
    .await
}

/// Starts an upload of `key` (`size` bytes, `content_type` from the file): checks the
/// deployment's rules, then signs one PUT or creates a multipart upload.
#[server(endpoint = "upload_start", input = Json)]
pub async fn start_upload(
    connection: i64,
    bucket: String,
    key: String,
    size: u64,
    content_type: String,
) -> Result<UploadPlan, AppError> {
    ssr::for_key(connection, &bucket, &key, async |target| {
        ssr::start_upload(target, size, &content_type).await
    })
    .await
}

/// Presigned URLs for parts `first..first + count` of a multipart upload.
#[server(endpoint = "upload_parts", input = Json)]
pub async fn upload_part_urls(
    connection: i64,
    bucket: String,
    key: String,
    upload_id: String,
    first: i32,
    count: i32,
) -> Result<Vec<String>, AppError> {
    ssr::for_key(connection, &bucket, &key, async |target| {
        ssr::part_urls(target, &upload_id, first, count).await
    })
    .await
}

/// Completes a multipart upload with the parts' ETags.
#[server(endpoint = "upload_complete", input = Json)]
pub async fn complete_upload(
    connection: i64,
    bucket: String,
    key: String,
    upload_id: String,
    parts: Vec<SentPart>,
) -> Result<(), AppError> {
    ssr::for_key(connection, &bucket, &key, async |target| {
        ssr::complete_upload(target, &upload_id, parts).await
    })
    .await
}

/// Aborts a multipart upload (cancelled or failed), so no parts are left behind.
#[server(endpoint = "upload_abort", input = Json)]
pub async fn abort_upload(
    connection: i64,
    bucket: String,
    key: String,
    upload_id: String,
) -> Result<(), AppError> {
    ssr::for_key(connection, &bucket, &key, async |target| {
        ssr::abort_upload(target, &upload_id).await
    })
    .await
}

/// Where a "Download" link points: a plain GET, so it works before hydration and from a new tab.
pub fn download_href(connection: i64, bucket: &str, key: &str) -> String {
    format!(
        "/api/download?connection={connection}&bucket={}&key={}",
        encode(bucket),
        encode(key)
    )
}

/// A "Download" link for one version of an object.
pub fn version_href(connection: i64, bucket: &str, key: &str, version: &str) -> String {
    format!(
        "{}&version={}",
        download_href(connection, bucket, key),
        encode(version)
    )
}

/// `Content-Disposition` that saves the file under its own name: a plain ASCII `filename` for
/// old clients and the exact name, UTF-8 and percent-encoded, in `filename*` (RFC 6266).
pub fn attachment(file_name: &str) -> String {
    let file_name = match file_name.trim_end_matches('/') {
        "" => "download",
        name => name,
    };
    let ascii: String = file_name
        .chars()
        .map(|c| match c {
            ' ' => ' ',
            '"' | '\\' | '%' => '_',
            c if c.is_ascii_graphic() => c,
            _ => '_',
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        encode(file_name)
    )
}

/// Redirects to a presigned GET of the object (saved under its own name), after checking that
/// the role may read it. The URL lives `PRESIGN_SECONDS` (default 10 minutes).
#[server(endpoint = "download", input = GetUrl)]
pub async fn download(
    connection: i64,
    bucket: String,
    key: String,
    version: Option<String>,
) -> Result<(), AppError> {
    let result = async {
        let user = crate::auth::ssr::require_user().await?;
        let state = crate::state::AppState::current();
        let target = ssr::Target::new(&state, user.id, connection, &bucket, &key)?;
        let url = ssr::download_url(&target, version.as_deref()).await?;
        leptos_axum::redirect(&url);
        Ok(())
    }
    .await;
    let back = crate::browse::location::object_href(connection, &bucket, &key);
    crate::forms::ssr::back_to_form_on_error(result, &back, &[])
}

/// S3's own words for a refusal the browser got an answer to (so not a CORS problem):
/// `S3 answered HTTP 403 AccessDenied: Request has expired`.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // used by the browser's requests
pub(crate) fn s3_refusal(status: u16, body: &str) -> String {
    let element = |name: &str| {
        let (open, close) = (format!("<{name}>"), format!("</{name}>"));
        let start = body.find(&open)? + open.len();
        let end = start + body[start..].find(&close)?;
        Some(body[start..end].trim().to_owned())
    };
    match (element("Code"), element("Message")) {
        (Some(code), Some(message)) => format!("S3 answered HTTP {status} {code}: {message}"),
        (Some(code), None) => format!("S3 answered HTTP {status} {code}"),
        _ => format!("S3 answered HTTP {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_keep_their_own_names() {
        assert_eq!(
            attachment("report.csv"),
            "attachment; filename=\"report.csv\"; filename*=UTF-8''report.csv"
        );
        assert_eq!(
            attachment("ünï \"x\" 100%.txt"),
            "attachment; filename=\"_n_ _x_ 100_.txt\"; filename*=UTF-8''%C3%BCn%C3%AF%20%22x%22%20100%25.txt"
        );
        assert!(attachment("").contains("filename=\"download\""));
    }

    fn rules(max_mib: Option<u64>, allowed: &[&str]) -> UploadRules {
        UploadRules {
            multipart_threshold: 16 << 20,
            parallel_parts: 4,
            max_bytes: max_mib.map(|m| m << 20),
            allowed: allowed.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn uploads_are_refused_by_size_type_or_extension_with_the_rule() {
        let open = rules(None, &[]);
        assert_eq!(
            open.check("x.bin", "application/octet-stream", 6 << 40),
            Err(AppError::UploadTooLarge {
                max: "5.0 TiB".into()
            })
        );
        assert_eq!(open.check("x.bin", "", 5 << 30), Ok(()));
        let strict = rules(Some(10), &["image/*", "application/pdf", ".csv"]);
        assert_eq!(strict.check("a.PNG", "image/png", 1), Ok(()));
        assert_eq!(strict.check("a.pdf", "application/pdf", 1), Ok(()));
        assert_eq!(strict.check("REPORT.CSV", "", 1), Ok(()));
        assert_eq!(
            strict.check("a.png", "image/png", 11 << 20),
            Err(AppError::UploadTooLarge {
                max: "10.0 MiB".into()
            })
        );
        assert_eq!(
            strict.check("run.sh", "text/x-sh", 1),
            Err(AppError::UploadTypeRefused {
                allowed: "image/*, application/pdf, .csv".into()
            })
        );
        // `image/*` is a family, not a prefix of any text.
        assert!(strict.check("x", "imagex/png", 1).is_err());
    }

    #[test]
    fn parts_fit_s3s_limits_at_any_size() {
        assert_eq!(UploadRules::part_size(40 << 20), 8 << 20);
        for size in [17 << 20, 5u64 << 30, 80 << 30, MAX_OBJECT] {
            let part = UploadRules::part_size(size);
            assert!(part >= MIN_PART && part % (1 << 20) == 0);
            assert!(size.div_ceil(part) <= MAX_PARTS, "{size}: {part}");
        }
    }

    #[test]
    fn download_links_carry_the_key_exactly() {
        assert_eq!(
            download_href(3, "b", "a/b c+d?.txt"),
            "/api/download?connection=3&bucket=b&key=a%2Fb%20c%2Bd%3F.txt"
        );
    }

    #[test]
    fn a_refusal_is_told_in_s3s_own_words() {
        let expired = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>";
        assert_eq!(
            s3_refusal(403, expired),
            "S3 answered HTTP 403 AccessDenied: Request has expired"
        );
        assert_eq!(s3_refusal(500, ""), "S3 answered HTTP 500");
    }
}
