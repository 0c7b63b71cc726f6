//! Crossview's HTTP server: the router with its layers, health probes, and start-up.

pub mod admission;
pub(crate) mod assets;
mod audit_export;
mod guard;
mod headers;
mod observe;
pub mod operator;
mod outage;
mod search;
pub mod serve;
mod share_links;
pub mod start;

use std::{sync::Arc, time::Duration};

use admission::Admission;

use app::{
    auth::ssr::{one_read_per_request, Backend, Sessions, AUTH_DATA_KEY, IDLE_DAYS},
    config::ExposeSecret,
    shell,
    state::AppState,
    App,
};
use axum::{
    extract::State,
    http::{StatusCode, Uri},
    middleware,
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use axum_login::AuthManagerLayerBuilder;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::PgPool;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::{
        predicate::{DefaultPredicate, NotForContentType, Predicate},
        CompressionLayer,
    },
    CompressionLevel,
};
use tower_sessions::{
    cookie::{Key, SameSite},
    Expiry, SessionManagerLayer,
};

/// The session cookie's name. Over HTTPS it carries the `__Host-` prefix, which browsers accept
/// only from a secure origin, for the whole site, without a `Domain`: no subdomain can set it.
pub fn session_cookie(secure: bool) -> &'static str {
    match secure {
        true => "__Host-crossview_session",
        false => "crossview_session",
    }
}

/// The whole application: pages, server functions, static files, probes, and every layer.
pub fn router(state: AppState) -> Router {
    let config = &state.config;
    let sessions = SessionManagerLayer::new(Sessions::new(state.db.clone()))
        .with_name(session_cookie(config.cookie_secure))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.cookie_secure)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(IDLE_DAYS)))
        .with_signed(Key::from(config.session_secret.expose_secret().as_bytes()));
    let auth = AuthManagerLayerBuilder::new(Backend::new(state.pool.clone()), sessions)
        .with_data_key(AUTH_DATA_KEY)
        .build();

    let routes = generate_route_list(App);
    let assets = assets::service(&state.leptos_options, &state.leptos_options.site_pkg_dir);
    let vendor = assets::service(&state.leptos_options, "vendor");
    let stream = assets::service(&state.leptos_options, "stream");
    let page = Arc::new(assets::page(&state.leptos_options));
    let admission = Admission::new(state.config.clone());
    Router::new()
        .route(
            "/s/{token}/download",
            get(share_links::download).post(share_links::with_password),
        )
        .route("/s/{token}/unlock", post(share_links::unlock))
        .route("/c/{connection}/{bucket}/", get(bucket_root))
        .route("/admin/audit/export", get(audit_export::export_audit))
        .route("/api/search/{connection}/{bucket}", get(search::search))
        .leptos_routes(&state, routes, {
            let (options, page) = (state.leptos_options.clone(), page.clone());
            move || shell(options.clone(), page.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            move |options| shell(options, page.clone()),
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            headers::s3_origins,
        ))
        .layer(middleware::from_fn_with_state(
            guard::SessionRules {
                max_age: config.session_max,
                require_mfa: config.require_mfa,
            },
            guard::require_session,
        ))
        .layer(middleware::from_fn_with_state(
            admission.clone(),
            admission::per_user,
        ))
        // Inside the session layers, to name the user; outside the guard, to log its refusals.
        .layer(middleware::from_fn(observe::requests))
        .layer(auth)
        // Outside axum-login's layer: the place where a session's load leaves its user.
        .layer(middleware::from_fn(one_read_per_request))
        .layer(middleware::from_fn_with_state(
            state.pool.clone(),
            outage::database_away,
        ))
        .layer(compression())
        .layer(middleware::from_fn_with_state(
            admission.clone(),
            admission::admit,
        ))
        // Probes and the site's own files need no session, so they never wait on Postgres.
        .route("/healthz", get(healthz))
        .route(
            "/readyz",
            get(move |State(pool)| readyz(pool, admission.clone())),
        )
        .route("/metrics", get(observe::scrape))
        .nest_service("/pkg", assets)
        .nest_service("/vendor", vendor)
        .nest_service("/stream", stream)
        .layer(middleware::from_fn(guard::same_origin_only))
        .layer(middleware::from_fn_with_state(
            config.development,
            headers::security_headers,
        ))
        .layer(CatchPanicLayer::custom(panicked))
        .layer(middleware::from_fn(guard::known_methods))
        .with_state(state)
}

/// A handler that panicked: logged with a reference the user can quote, and answered 500 with
/// it, instead of a connection dropped without an answer.
fn panicked(cause: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let cause = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    let err = app::error::AppError::internal(format!("panic: {cause}"));
    refusal_page("Something went wrong", &err)
}

/// Pages and server functions in gzip when the browser accepts it (a 1000-row folder page:
/// 362 KB → 15 KB). Not brotli: measured on that page, its encoder (a 4 MiB window per response)
/// doubled the server's memory under load and cost more CPU than gzip; the site's own files are
/// brotli, compressed once at build time. The audit export (CSV, NDJSON) is sent as it is:
/// compressed on the fly, its streamed download never completed in Chromium (the browser
/// suite's export step).
fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .no_br()
        .quality(CompressionLevel::Precise(4))
        .compress_when(
            DefaultPredicate::new()
                .and(NotForContentType::const_new("text/csv"))
                .and(NotForContentType::const_new("application/x-ndjson")),
        )
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// Postgres answers, and requests are being admitted. A fresh connection is tried on every
/// probe, so this recovers by itself when the database comes back; an instance whose every
/// permit has been taken for [`admission::SATURATED`] is not ready, so that an orchestrator
/// sends traffic elsewhere or restarts it.
async fn readyz(pool: PgPool, admission: Arc<Admission>) -> (StatusCode, String) {
    if let Some(took) = admission.saturated_for() {
        let why = format!(
            "saturated: every request slot taken for {} s",
            took.as_secs()
        );
        tracing::warn!("readiness: {why}");
        return (StatusCode::SERVICE_UNAVAILABLE, why);
    }
    match outage::database_answers(&pool).await {
        Ok(()) => match admission.proxy_warning() {
            None => (StatusCode::OK, "ready".into()),
            Some(warning) => (StatusCode::OK, format!("ready; warning: {warning}")),
        },
        Err(err) => {
            tracing::warn!("readiness: {err}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "database unreachable".into(),
            )
        }
    }
}

/// `/c/<connection>/<bucket>/`: the bucket's top folder, whose own address has no trailing slash
/// (the router's folder pattern needs a non-empty prefix after it): sent there, query and all.
async fn bucket_root(uri: Uri) -> Redirect {
    let path = uri.path().strip_suffix('/').unwrap_or(uri.path());
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    Redirect::permanent(&format!("{path}{query}"))
}

/// A plain page saying why a request outside the app's pages was refused, with its status. The
/// message may name an object's key: escaped, it is only ever text.
pub(crate) fn refusal_page(heading: &str, err: &app::error::AppError) -> Response {
    let message = app::ui::escape_html(&err.to_string());
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><meta charset=\"utf-8\"><title>Crossview</title>\
         <body><h1>{heading}</h1><p>{message}</p><p><a href=\"/\">Crossview</a></p></body></html>"
    );
    (err.status(), Html(page)).into_response()
}

/// Writes a signed digest of the audit chain's head now and every `AUDIT_DIGEST_EVERY_SECS`
/// (one file per head: instances writing together, or a quiet hour, add nothing).
pub async fn write_digests(pool: PgPool, digest: app::config::AuditDigest) {
    let mut every = tokio::time::interval(digest.every);
    loop {
        every.tick().await;
        if let Err(err) = app::audit::ssr::digest::write(&pool, &digest).await {
            tracing::warn!("the audit digest was not written: {err}");
        }
    }
}

/// Deletes expired sessions once an hour; sessions past expiry are already refused on read.
pub async fn prune_sessions(pool: PgPool) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        if let Err(err) =
            sqlx::query("delete from tower_sessions.session where expiry_date < now()")
                .execute(&pool)
                .await
        {
            tracing::warn!("could not prune expired sessions: {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn boom() -> &'static str {
        panic!("boom")
    }

    /// A handler's panic is answered 500 with a reference, not a dropped connection.
    #[tokio::test]
    async fn a_panic_is_answered_500_with_a_reference() {
        let app: Router = Router::new()
            .route("/", get(boom))
            .layer(CatchPanicLayer::custom(panicked));
        let request = axum::http::Request::new(Body::empty());
        let res = app.oneshot(request).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("(reference "), "{body}");
        assert!(!body.contains("boom"), "the cause stays in the log");
    }
}
