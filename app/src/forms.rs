//! Plain HTML forms posting to server functions: they work before hydration, and an error comes
//! back to the form's page as `?error=<code>`, which the page turns into one of our own messages.

use leptos::prelude::*;

use crate::{error::AppError, url::use_query};

/// The error a plain-form post was redirected back with, if any.
pub fn error_from_query() -> Signal<Option<AppError>> {
    let query = use_query();
    Signal::derive(move || query.read().get("error").and_then(AppError::from_code))
}

/// The same for a plain request that S3 may refuse (a form post, a download link). A refusal
/// carries only its code: the page knows which `action` on which `resource` it asked for.
pub fn refusal_from_query(
    action: &'static str,
    resource: impl Fn() -> String + Send + Sync + 'static,
) -> Signal<Option<AppError>> {
    let query = use_query();
    let coded = error_from_query();
    Signal::derive(move || match coded.get() {
        None if query.read().get("error") == Some("Denied") => Some(AppError::Denied {
            action: action.into(),
            resource: resource(),
        }),
        other => other,
    })
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use http::{header, request::Parts};

    use crate::{error::AppError, url::encode_path};

    /// Gives a failed server function the HTTP status of its error (server functions answer
    /// 500 otherwise, which would make a wrong password look like a crash).
    pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let (Err(err), Some(res)) = (
            &result,
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        ) {
            res.set_status(err.status());
        }
        result
    }

    /// For a plain (un-hydrated) form post, turns an error into a redirect back to `page` with
    /// `?error=<code>` (and the `keep` pairs); a hydrated caller gets the error with its status.
    pub fn back_to_form_on_error<T>(
        result: Result<T, AppError>,
        page: &str,
        keep: &[(&str, &str)],
    ) -> Result<T, AppError> {
        if let Err(err) = &result {
            let plain_form = leptos::prelude::use_context::<Parts>()
                .and_then(|p| {
                    p.headers
                        .get(header::ACCEPT)?
                        .to_str()
                        .ok()
                        .map(|a| a.contains("text/html"))
                })
                .unwrap_or(false);
            if plain_form {
                let mut query = format!("error={}", encode_path(&err.code()));
                for (k, v) in keep.iter().filter(|(_, v)| !v.is_empty()) {
                    query.push_str(&format!("&{}={}", encode_path(k), encode_path(v)));
                }
                let sep = if page.contains('?') { '&' } else { '?' };
                leptos_axum::redirect(&format!("{page}{sep}{query}"));
                return result;
            }
        }
        with_status(result)
    }
}
