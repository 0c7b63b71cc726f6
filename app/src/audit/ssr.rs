use serde_json::Value;
use sqlx::PgPool;
use time::format_description::well_known::Rfc3339;

use super::AuditEntry;
use crate::error::AppError;

/// What happened. `detail` is for humans and must never hold a secret.
#[derive(Debug, Default)]
pub struct Event<'a> {
    pub actor_id: Option<i64>,
    pub connection_id: Option<i64>,
    pub action: &'a str,
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    pub outcome: &'a str,
    pub aws_request_id: Option<&'a str>,
    pub detail: Option<Value>,
}

pub async fn record(pool: &PgPool, event: Event<'_>) -> Result<(), AppError> {
    sqlx::query!(
        "insert into audit_events (actor_id, connection_id, action, bucket, key, outcome, aws_request_id, detail)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
        event.actor_id,
        event.connection_id,
        event.action,
        event.bucket,
        event.key,
        event.outcome,
        event.aws_request_id,
        event.detail.unwrap_or_else(|| Value::Object(Default::default())),
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The newest entries first, with the actor's email where the user still exists.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<AuditEntry>, AppError> {
    let rows = sqlx::query!(
        "select e.id, e.at, u.email as \"actor?\", e.connection_id, e.action, e.bucket, e.key, e.outcome, e.aws_request_id
         from audit_events e left join users u on u.id = e.actor_id
         order by e.id desc limit $1",
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: r.at.format(&Rfc3339).unwrap_or_default(),
            actor: r.actor,
            connection_id: r.connection_id,
            action: r.action,
            bucket: r.bucket,
            key: r.key,
            outcome: r.outcome,
            aws_request_id: r.aws_request_id,
        })
        .collect())
}
