use serde_json::Value;
use sqlx::{PgExecutor, PgPool};

mod archive;
mod chain;
pub mod digest;
mod export;
mod search;

pub use archive::archive;
pub use chain::{verify, verify_against};
pub use export::{export, Format};
pub use search::search;

use super::{Activity, ChainReport, Outcome};
use crate::{error::AppError, limits::Counter};

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

/// The longest each field of a row may be, in bytes; the table's `check` constraints say the
/// same (migration `…_bounded_audit`). Requests check their input against S3's own limits
/// before they get here; these bounds hold whatever a code path forgot.
pub const MAX_BUCKET: usize = 63;
/// S3's longest key.
pub const MAX_KEY: usize = 1024;
pub const MAX_REQUEST_ID: usize = 128;
/// `detail` as Postgres prints it (`detail::text`).
pub const MAX_DETAIL: usize = 4096;

/// Appends `event` to the chain, on the pool or inside the caller's transaction (so that a
/// change and its entry are committed together). `audit_append` (see the migration) chains it.
pub async fn record<'c>(db: impl PgExecutor<'c>, event: Event<'_>) -> Result<(), AppError> {
    append(db, event, None).await
}

/// [`record`], and one attempt of `counter` counted in the same statement: an assumption
/// spends its user's allowance as it is audited, at no round trip of its own.
pub async fn record_counting<'c>(
    db: impl PgExecutor<'c>,
    event: Event<'_>,
    counter: Counter<'_>,
) -> Result<(), AppError> {
    append(db, event, Some(counter)).await
}

async fn append<'c>(
    db: impl PgExecutor<'c>,
    event: Event<'_>,
    counter: Option<Counter<'_>>,
) -> Result<(), AppError> {
    let detail = bounded_detail(
        event
            .detail
            .unwrap_or_else(|| Value::Object(Default::default())),
    );
    sqlx::query!(
        "select audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9), attempt_count($10, $11, $12)",
        event.actor_id,
        event.connection_id,
        event.action.name(),
        event.bucket.map(|b| shortened(b, MAX_BUCKET)),
        event.key.map(|k| shortened(k, MAX_KEY)),
        event.outcome.name(),
        event.outcome.class(),
        event.aws_request_id.map(|id| shortened(id, MAX_REQUEST_ID)),
        detail,
        counter.map(|(limit, _)| limit.kind()),
        counter.map(|(_, subject)| subject),
        counter.map_or(0.0, |(limit, _)| limit.window_secs()),
    )
    .fetch_one(db)
    .await?;
    Ok(())
}

/// `text` cut to at most `max` bytes, at a character's boundary.
fn shortened(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `detail`, or when Postgres would print it longer than [`MAX_DETAIL`], the start of its text
/// marked as cut.
fn bounded_detail(detail: Value) -> Value {
    if printed_len(&detail) <= MAX_DETAIL {
        return detail;
    }
    let text = detail.to_string();
    // Room for the wrapper and for escapes that Postgres prints as serde_json does.
    let start = shortened(&text, MAX_DETAIL / 2);
    serde_json::json!({ "truncated": true, "start": start })
}

/// How long `value` is as Postgres prints jsonb: serde_json's compact form plus the space
/// Postgres puts after every `:` and `,`.
fn printed_len(value: &Value) -> usize {
    fn spaces(value: &Value) -> usize {
        match value {
            Value::Object(fields) => {
                2 * fields.len() - usize::from(!fields.is_empty())
                    + fields.values().map(spaces).sum::<usize>()
            }
            Value::Array(items) => {
                items.len().saturating_sub(1) + items.iter().map(spaces).sum::<usize>()
            }
            _ => 0,
        }
    }
    value.to_string().len() + spaces(value)
}

/// Walks the chain (see [`verify_against`]) and audits the walk, the head it checked and what
/// it found, as done by `actor` (an admin; `None` is the operator, from the command line).
pub async fn verify_audited(
    pool: &PgPool,
    actor: Option<i64>,
    pins: &[digest::Pin],
) -> Result<ChainReport, AppError> {
    let report = verify_against(pool, pins).await?;
    let outcome = match report.problem {
        None => Outcome::Ok,
        Some(_) => Outcome::Failed,
    };
    let event = Event {
        actor_id: actor,
        detail: Some(serde_json::json!({
            "by": if actor.is_some() { "admin" } else { "operator" },
            "rows": report.rows, "first_id": report.first_id,
            "shards": report.shards,
            "head": { "last_id": report.last_id, "root": report.root },
            "pins": report.pins_checked,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The length counted here is the one Postgres prints, which the table's constraint checks.
    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn the_printed_length_is_postgres_own(pool: PgPool) {
        for value in [
            json!({}),
            json!([]),
            json!({"a": 1, "b": [1, 2, {"c": "写真 🗼 \"q\" \n"}], "d": {}}),
            json!({"from": "x".repeat(5000), "to": null}),
        ] {
            let printed: String = sqlx::query_scalar("select $1::jsonb::text")
                .bind(&value)
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(printed_len(&value), printed.len(), "{printed}");
        }
    }

    #[test]
    fn long_details_are_cut_and_say_so() {
        let long = json!({ "from": "k".repeat(65536) });
        let cut = bounded_detail(long);
        assert_eq!(cut["truncated"], true);
        assert!(printed_len(&cut) <= MAX_DETAIL);
        let short = json!({ "from": "a/b.txt" });
        assert_eq!(bounded_detail(short.clone()), short);
        assert_eq!(shortened("写真", 4), "写");
    }
}
