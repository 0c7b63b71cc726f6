//! `GET /admin/audit/export?format=csv|ndjson&<the search's filters>`: the audit rows of a
//! search as a file, streamed from Postgres as the client reads it. Administrators only; each
//! export is itself audited.

use app::{
    audit::{
        ssr::{export, record, Event, Format},
        Activity, AuditFilter, Outcome,
    },
    auth::ssr::AuthSession,
    error::AppError,
    state::AppState,
    url::Query,
};
use axum::{
    body::Body,
    extract::{RawQuery, State},
    http::header,
    response::{IntoResponse, Response},
};
use serde_json::json;

pub async fn export_audit(
    State(state): State<AppState>,
    auth: AuthSession,
    RawQuery(raw): RawQuery,
) -> Response {
    match answer(&state, auth, raw.unwrap_or_default()).await {
        Ok(response) => response,
        Err(err) => (
            err.status(),
            [(header::CACHE_CONTROL, "no-store")],
            err.to_string(),
        )
            .into_response(),
    }
}

async fn answer(state: &AppState, auth: AuthSession, raw: String) -> Result<Response, AppError> {
    let user = auth.user.clone().ok_or(AppError::Unauthorized)?;
    if !user.is_admin {
        return Err(AppError::Forbidden);
    }
    app::auth::ssr::step_up::require(&auth).await?;
    let query = Query::parse(&raw);
    let format = query
        .get("format")
        .and_then(Format::parse)
        .ok_or(AppError::SearchInvalid)?;
    let filter = AuditFilter::from_query(&query);
    let rows = export(state.pool.clone(), &filter, format)?;
    let event = Event {
        actor_id: Some(user.id),
        detail: Some(json!({
            "by": "admin", "format": format.extension(), "search": filter.at_page(None).to_query(),
        })),
        ..Event::new(Activity::AuditExport, Outcome::Ok)
    };
    record(&state.pool, event).await?;
    let name = format!(
        "attachment; filename=\"crossview-audit-{}.{}\"",
        time::OffsetDateTime::now_utc().date(),
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, name),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(rows),
    )
        .into_response())
}
