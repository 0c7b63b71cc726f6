//! While Postgres is away: a clear 503 instead of an empty 500.
//!
//! The session and authentication layers read Postgres before any page can render, and when
//! that read fails they answer a bare 500 with no body; a form's server function sends the
//! browser back with `?error=…`. This layer sits outside them: only when a response is a 500 or
//! such a redirect with an internal or unavailable error does it ask the database whether it
//! answers, and if it does not, the visitor gets the same message everywhere, with 503 and
//! `Retry-After`. Nothing is cached: the next request after the database returns is served
//! normally.

use std::time::Duration;

use app::{error::AppError, ui::escape_html};
use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use sqlx::PgPool;

/// How long the page waits before trying again by itself, and what `Retry-After` says.
const RETRY_SECONDS: u32 = 15;

/// Whether Postgres answers a trivial query within two seconds, on a fresh or pooled connection.
pub async fn database_answers(pool: &PgPool) -> Result<(), String> {
    let probe = tokio::time::timeout(
        Duration::from_secs(2),
        sqlx::query("select 1").execute(pool),
    );
    match probe.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("no answer within 2 s".into()),
    }
}

pub async fn database_away(State(pool): State<PgPool>, req: Request, next: Next) -> Response {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let res = next.run(req).await;
    if !failed(&res) {
        return res;
    }
    match database_answers(&pool).await {
        Ok(()) => res,
        Err(err) => {
            tracing::warn!("answering 503: the database is unreachable: {err}");
            unavailable(wants_html)
        }
    }
}

/// A failure that may be the database's: a 500 (a bare one from the session layers, or a
/// server function's), or a plain form sent back with an internal or unavailable error.
fn failed(res: &Response) -> bool {
    let back_with = |code: &str| {
        res.headers()
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.contains(&format!("error={code}")))
    };
    res.status() == StatusCode::INTERNAL_SERVER_ERROR
        || (res.status().is_redirection() && (back_with("Internal") || back_with("Unavailable")))
}

/// A browser gets a page that tries again by itself; a hydrated page's server-function call
/// gets the error it knows how to show.
fn unavailable(wants_html: bool) -> Response {
    let message = AppError::Unavailable.to_string();
    let mut res = if wants_html {
        Html(format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"refresh\" content=\"{RETRY_SECONDS}\">\
             <title>Unavailable · Crossview</title></head>\
             <body><h1>Crossview is unavailable</h1><p role=\"alert\">{}</p>\
             <p>This page tries again every {RETRY_SECONDS} seconds.</p></body></html>",
            escape_html(&message)
        ))
        .into_response()
    } else {
        let body = serde_json::to_string(&AppError::Unavailable).unwrap_or_default();
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    };
    *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = res.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_SECONDS));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
