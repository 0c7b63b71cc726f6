//! Security headers on every response.

use app::{auth::ssr::AuthSession, shell::csp, state::AppState};
use axum::{
    extract::{Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};

/// Pages set their own CSP (it carries a nonce); every other response gets one that allows
/// nothing. `no-referrer` keeps presigned URLs from leaking to other sites through `Referer`.
/// Nothing but the site's own static files may be stored by a browser or a proxy: pages and
/// server-function answers are one user's, and a download's redirect carries a presigned URL.
pub async fn security_headers(
    State(development): State<bool>,
    req: Request,
    next: Next,
) -> Response {
    let static_file = req.uri().path().starts_with("/pkg/");
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    if !static_file {
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(csp::NON_PAGE));
    let fixed = [
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !development {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

/// For a signed-in page load (or a shared folder's zip page), finds the S3 endpoints the page may
/// reach (uploads, previews, the zip's reads) and hands them to the page's CSP through the
/// request's extensions.
pub async fn s3_origins(
    State(state): State<AppState>,
    auth: AuthSession,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    let page = req.method() == axum::http::Method::GET
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/");
    // A shared folder's zip page reads from the link's storage, whoever opens it.
    let zip_of = path
        .strip_prefix("/s/")
        .and_then(|rest| rest.strip_suffix("/zip"))
        .filter(|token| !token.contains('/'))
        .map(str::to_owned);
    let found = match (page, zip_of, &auth.user) {
        (false, _, _) => None,
        (true, Some(token), _) => Some(csp::s3_origins_of_link(&state, &token).await),
        (true, None, Some(user)) => Some(csp::s3_origins(&state, user.id).await),
        (true, None, None) => None,
    };
    if let Some(found) = found {
        match found {
            Ok(origins) => {
                req.extensions_mut().insert(origins);
            }
            // The page still works (its own CSP error shows if it needs S3 directly).
            Err(err) => tracing::warn!("no S3 origins for the page's CSP: {err}"),
        }
    }
    next.run(req).await
}
