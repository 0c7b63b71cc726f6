//! Request guards that sit in front of every route.

use std::time::Duration;

use app::{
    auth::ssr::{end_if_too_old, factors, AuthSession},
    config::RequireMfa,
    error::AppError,
    url::encode_path,
};
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

/// Answers 501 to any method Crossview does not serve, before anything else sees the request
/// (its name is the client's to invent: it never reaches a log line or a metric's label).
pub async fn known_methods(req: Request, next: Next) -> Response {
    if app::telemetry::metrics::method_label(req.method()) == "other" {
        return (
            StatusCode::NOT_IMPLEMENTED,
            [(
                header::ALLOW,
                "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH",
            )],
            "method not implemented",
        )
            .into_response();
    }
    next.run(req).await
}

/// Paths an anonymous visitor may load. Server functions under `/api` guard themselves.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/sign-in"
            | "/sign-in/code"
            | "/sign-in/link"
            | "/sign-up"
            | "/forgot"
            | "/healthz"
            | "/readyz"
            | "/favicon.ico"
    ) || path.starts_with("/api/")
        || path.starts_with("/s/")
        || path.starts_with("/sso/")
        || path.starts_with("/reset/")
        || path.starts_with("/pkg/")
}

/// What the session guard enforces: the absolute lifetime (`SESSION_MAX_HOURS`) and who needs
/// a second factor (`REQUIRE_MFA`).
#[derive(Clone, Copy)]
pub struct SessionRules {
    pub max_age: Duration,
    pub require_mfa: RequireMfa,
}

/// Where a session that needs a second factor and has none is sent: the account page, whose
/// two-step section sets one up.
const ENROL: &str = "/account?second_factor=required#two-step";

/// Ends sessions past their absolute lifetime (`SESSION_MAX_HOURS`), then sends anonymous page
/// loads to sign-in (remembering where they were going), and signed-in visitors of the sign-in
/// and sign-up pages to their connections. Signed-in users who are not administrators get 403
/// from the admin console; a session without the second factor `REQUIRE_MFA` asks of it goes
/// to set one up (its server functions refuse on their own).
pub async fn require_session(
    State(SessionRules {
        max_age,
        require_mfa,
    }): State<SessionRules>,
    mut auth: AuthSession,
    mut req: Request,
    next: Next,
) -> Response {
    match end_if_too_old(&mut auth, max_age).await {
        // Handlers and server functions read the session from here: they see it ended too.
        Ok(true) => {
            req.extensions_mut().insert(auth.clone());
        }
        Ok(false) => {}
        Err(err) => return (err.status(), err.to_string()).into_response(),
    }
    let path = req.uri().path();
    let page_load = req.method() == Method::GET || req.method() == Method::HEAD;
    if !page_load {
        return next.run(req).await;
    }
    let admin_path = path == "/admin" || path.starts_with("/admin/");
    match (&auth.user, is_public(path)) {
        (Some(_), _) if matches!(path, "/sign-in" | "/sign-up" | "/forgot") => {
            Redirect::to("/").into_response()
        }
        // The admin console's pages and exports (their server functions refuse on their own).
        (Some(user), _) if admin_path && !user.is_admin => {
            crate::refusal_page("Not allowed", &AppError::Forbidden)
        }
        (Some(_), false) if path != "/account" && require_mfa.refuses(admin_path) => {
            match factors::proved(&auth).await {
                Ok(true) => next.run(req).await,
                Ok(false) => Redirect::to(ENROL).into_response(),
                Err(err) => (err.status(), err.to_string()).into_response(),
            }
        }
        (Some(_), _) | (None, true) => next.run(req).await,
        (None, false) => {
            let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
            Redirect::to(&format!("/sign-in?next={}", encode_path(target))).into_response()
        }
    }
}

/// Refuses what another site could make a browser send (CSRF, login CSRF): every request that
/// is not a GET, HEAD or OPTIONS must show it comes from this site, and server functions (under
/// `/api/`) and the admin console (under `/admin`) are refused when fetch metadata says another
/// site asked for them, GETs included (a download link opened from elsewhere), or when they come in an encoding no server function
/// declares (`text/plain` and multipart forms can be posted cross-site without a preflight).
pub async fn same_origin_only(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    let api = path.starts_with("/api/");
    // The admin console's GETs too: its export is a download another site could start.
    let guarded = api || path == "/admin" || path.starts_with("/admin/");
    let refused = if write {
        !from_this_site(headers)
    } else {
        guarded && matches!(fetch_site(headers), Some("cross-site" | "same-site"))
    };
    if refused {
        return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
    }
    if write && api && !declared_encoding(headers) {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "server functions take application/x-www-form-urlencoded or application/json",
        )
            .into_response();
    }
    next.run(req).await
}

fn fetch_site(headers: &HeaderMap) -> Option<&str> {
    headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
}

/// Browsers say where a request comes from in `Sec-Fetch-Site`; `Origin` is only a fallback,
/// since under `Referrer-Policy: no-referrer` a browser's own form posts carry `Origin: null`
/// (with `Sec-Fetch-Site: same-origin` beside it). A request with neither proves nothing and is
/// refused: every browser Crossview supports sends one or the other.
fn from_this_site(headers: &HeaderMap) -> bool {
    let get = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    match (fetch_site(headers), get(header::ORIGIN)) {
        (Some(site), _) => matches!(site, "same-origin" | "none"),
        (None, Some(origin)) => origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .is_some_and(|authority| Some(authority) == get(header::HOST)),
        (None, None) => false,
    }
}

/// The encodings Crossview's server functions declare: URL-encoded forms and JSON.
fn declared_encoding(headers: &HeaderMap) -> bool {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")
        || essence.eq_ignore_ascii_case("application/json")
}
