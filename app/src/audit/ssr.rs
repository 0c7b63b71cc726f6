use serde_json::Value;
use sqlx::{PgExecutor, PgPool};

use super::{Activity, AuditEntry, Outcome};
use crate::{error::AppError, format::rfc3339};

/// What happened. `detail` is for humans and must never hold a secret.
#[derive(Debug)]
pub struct Event<'a> {
    pub actor_id: Option<i64>,
    pub connection_id: Option<i64>,
    pub action: Activity,
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    pub outcome: Outcome,
    pub aws_request_id: Option<&'a str>,
    pub detail: Option<Value>,
}

impl Event<'_> {
    /// An event with only its action and outcome set; the rest is filled in with `..`.
    pub fn new(action: Activity, outcome: Outcome) -> Self {
        Event {
            actor_id: None,
            connection_id: None,
            action,
            bucket: None,
            key: None,
            outcome,
            aws_request_id: None,
            detail: None,
        }
    }
}

impl Outcome {
    /// `Ok`, or the error's code.
    pub fn of<T>(result: &Result<T, AppError>) -> Self {
        match result {
            Ok(_) => Outcome::Ok,
            Err(err) => Outcome::Error(err.code()),
        }
    }
}

/// Appends `event` to the log, on the pool or inside the caller's transaction (so that a change
/// and its entry are committed together).
pub async fn record<'c>(db: impl PgExecutor<'c>, event: Event<'_>) -> Result<(), AppError> {
    sqlx::query!(
        "insert into audit_events (actor_id, connection_id, action, bucket, key, outcome, aws_request_id, detail)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
        event.actor_id,
        event.connection_id,
        event.action.name(),
        event.bucket,
        event.key,
        event.outcome.name(),
        event.aws_request_id,
        event.detail.unwrap_or_else(|| Value::Object(Default::default())),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The newest entries first, with the actor's email where the user still exists (`operator`
/// for what was done from the command line).
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<AuditEntry>, AppError> {
    let rows = sqlx::query!(
        "select e.id, e.at, coalesce(u.email, e.detail->>'by') as \"actor?\", e.connection_id, e.action, e.bucket, e.key, e.outcome, e.aws_request_id
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
            at: rfc3339(r.at),
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
