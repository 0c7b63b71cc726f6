//! One log line and one latency sample per request, and the metrics endpoint.
//!
//! The line names the request (its id: the platform's `x-request-id`/`x-vercel-id` when given,
//! else a fresh one, echoed back in `x-request-id`), the route as the router declares it (never
//! the raw path: a share link's path is its secret, and keys are the customer's), the user, the
//! connection and AWS's request ids when the request used them, the status and the time taken.

use std::time::Instant;

use app::{
    auth::ssr::AuthSession,
    config::ExposeSecret,
    state::AppState,
    telemetry::{
        metrics::{self, PoolUse},
        RequestFacts,
    },
};
use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

pub async fn requests(auth: AuthSession, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(req.headers());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let facts = RequestFacts::default();
    facts.update(|f| f.user_id = auth.user.as_ref().map(|u| u.id));
    req.extensions_mut().insert(facts.clone());
    let method = metrics::method_label(req.method());
    let res = next.run(req).await;
    let outcome = Outcome {
        started,
        id,
        route,
        method,
        status: res.status().as_u16(),
        facts,
    };
    let (mut parts, body) = res.into_parts();
    if let Ok(value) = HeaderValue::from_str(&outcome.id) {
        parts.headers.insert("x-request-id", value);
    }
    // Pages stream: the request is over when its body is, not when its head is ready. The line
    // is written when the body is dropped: sent whole, or abandoned by the client.
    let body = body.map_frame(move |frame| {
        let _written_on_drop = &outcome;
        frame
    });
    Response::from_parts(parts, Body::new(body))
}

struct Outcome {
    started: Instant,
    id: String,
    route: String,
    method: &'static str,
    status: u16,
    facts: RequestFacts,
}

impl Drop for Outcome {
    fn drop(&mut self) {
        let took = self.started.elapsed();
        metrics::request(&self.route, self.method, self.status, took);
        let seen = self.facts.snapshot();
        tracing::info!(
            target: "crossview::request",
            request_id = %self.id,
            method = self.method,
            route = %self.route,
            status = self.status,
            latency_ms = took.as_secs_f64() * 1000.0,
            user_id = seen.user_id,
            connection_id = seen.connection_id,
            aws_request_ids = %seen.aws_request_ids.join(","),
        );
    }
}

/// The platform's id for this request if it sent a sane one, else a new one.
fn request_id(headers: &HeaderMap) -> String {
    ["x-request-id", "x-vercel-id"]
        .iter()
        .filter_map(|name| headers.get(*name)?.to_str().ok())
        .find(|id| {
            (1..=128).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map_or_else(|| hex::encode(rand::random::<[u8; 8]>()), str::to_owned)
}

/// `GET /metrics`: Prometheus's text format, for whoever holds `METRICS_TOKEN` as a bearer token.
/// Without a token configured there is no such endpoint (404), so nothing is public by default.
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = &state.config.metrics_token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Digests compared, not the tokens: the comparison's time says nothing about the token.
    if Sha256::digest(given.as_bytes()) != Sha256::digest(token.expose_secret().as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response();
    }
    let pool = PoolUse {
        size: state.pool.size(),
        idle: state.pool.num_idle(),
        max: state.pool.options().get_max_connections(),
    };
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics::render(pool),
    )
        .into_response()
}
