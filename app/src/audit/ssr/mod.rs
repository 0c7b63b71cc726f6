use serde_json::Value;
use sqlx::{PgExecutor, PgPool};

mod archive;
mod chain;
mod export;
mod search;

pub use archive::archive;
pub use chain::verify;
pub use export::{export, Format};
pub use search::search;

use super::{Activity, ChainReport, Outcome};
use crate::error::AppError;

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

/// Appends `event` to the chain, on the pool or inside the caller's transaction (so that a
/// change and its entry are committed together). `audit_append` (see the migration) chains it.
pub async fn record<'c>(db: impl PgExecutor<'c>, event: Event<'_>) -> Result<(), AppError> {
    sqlx::query!(
        "select audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        event.actor_id,
        event.connection_id,
        event.action.name(),
        event.bucket,
        event.key,
        event.outcome.name(),
        event.outcome.class(),
        event.aws_request_id,
        event
            .detail
            .unwrap_or_else(|| Value::Object(Default::default())),
    )
    .fetch_one(db)
    .await?;
    Ok(())
}

/// Walks the chain (see [`verify`]) and audits the walk and what it found, as done by `actor`
/// (an admin; `None` is the operator, from the command line).
pub async fn verify_audited(pool: &PgPool, actor: Option<i64>) -> Result<ChainReport, AppError> {
    let report = verify(pool).await?;
    let outcome = match report.problem {
        None => Outcome::Ok,
        Some(_) => Outcome::Failed,
    };
    let event = Event {
        actor_id: actor,
        detail: Some(serde_json::json!({
            "by": if actor.is_some() { "admin" } else { "operator" },
            "rows": report.rows, "first_id": report.first_id,
            "problem": report.problem.as_ref().map(ToString::to_string),
        })),
        ..Event::new(Activity::AuditVerify, outcome)
    };
    record(pool, event).await?;
    Ok(report)
}

/// Counts one piece of anonymous junk (a failed sign-in, an unknown share token) for today:
/// strangers can make these without end, so they are counted, not written row by row.
pub async fn count_junk(pool: &PgPool, kind: &str) -> Result<(), AppError> {
    sqlx::query!(
        "insert into anonymous_counts (day, kind, n) values (current_date, $1, 1)
         on conflict (day, kind) do update set n = anonymous_counts.n + 1",
        kind
    )
    .execute(pool)
    .await?;
    Ok(())
}
