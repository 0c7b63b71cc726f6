//! Request guards that sit in front of every route.

use app::{auth::ssr::AuthSession, url::encode_path};
use axum::{
    extract::Request,
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

/// Paths an anonymous visitor may load. Server functions under `/api` guard themselves.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/sign-in" | "/sign-up" | "/healthz" | "/readyz" | "/favicon.ico"
    ) || path.starts_with("/api/")
        || path.starts_with("/s/")
        || path.starts_with("/pkg/")
}

/// Sends anonymous page loads to sign-in (remembering where they were going), and signed-in
/// visitors of the sign-in and sign-up pages to their connections.
pub async fn require_session(auth: AuthSession, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let page_load = req.method() == Method::GET || req.method() == Method::HEAD;
    if !page_load {
        return next.run(req).await;
    }
    match (&auth.user, is_public(path)) {
        (Some(_), _) if matches!(path, "/sign-in" | "/sign-up") => {
            Redirect::to("/").into_response()
        }
        (Some(_), _) | (None, true) => next.run(req).await,
        (None, false) => {
            let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
            Redirect::to(&format!("/sign-in?next={}", encode_path(target))).into_response()
        }
    }
}

/// Refuses state-changing requests that a browser sent from another site (login CSRF and the
/// like); SameSite=Lax already keeps the session cookie off them. Browsers say where a request
/// comes from in `Sec-Fetch-Site`; `Origin` is only a fallback, since under
/// `Referrer-Policy: no-referrer` a browser's own form posts carry `Origin: null`.
pub async fn same_origin_writes(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || from_this_site(req.headers()) {
        next.run(req).await
    } else {
        (StatusCode::FORBIDDEN, "cross-site request refused").into_response()
    }
}

fn from_this_site(headers: &HeaderMap) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match (get("sec-fetch-site"), get(header::ORIGIN.as_str())) {
        (Some(site), _) => matches!(site, "same-origin" | "none"),
        (None, Some(origin)) if origin != "null" => {
            origin.split_once("://").map(|(_, authority)| authority) == get(header::HOST.as_str())
        }
        // Not a browser (no fetch metadata, no origin): its cookies are its own to send.
        (None, _) => true,
    }
}
