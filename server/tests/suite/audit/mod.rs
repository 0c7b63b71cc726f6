//! The audit trail: its hash chain holds under concurrent writers and shows tampering, searches
//! combine filters and page by cursor, exports stream every row with hashes an auditor can check
//! offline, and archiving drops whole months without breaking the chain.

mod chain;
mod digests;
mod search;

use app::{
    audit::{
        ssr::{digest, export, record, search, verify, verify_against, Event, Format},
        Activity, AuditFilter, ChainBreak, Outcome,
    },
    config::AuditDigest,
    error::AppError,
};
use futures::TryStreamExt;
use sqlx::PgPool;

use crate::{
    admins::{operator, operator_with, user_id},
    support::Browser,
};

const PASSWORD: &str = "a long enough passphrase";

/// One audit row through the app's own path.
async fn write(
    pool: &PgPool,
    actor: Option<i64>,
    action: Activity,
    bucket: &str,
    key: &str,
    outcome: Outcome,
) {
    let event = Event {
        actor_id: actor,
        bucket: Some(bucket),
        key: Some(key),
        ..Event::new(action, outcome)
    };
    record(pool, event).await.unwrap();
}

async fn rows(pool: &PgPool, n: usize) {
    for i in 0..n {
        let key = format!("reports/{i}.csv");
        write(pool, None, Activity::Download, "payroll", &key, Outcome::Ok).await;
    }
}

/// Runs `sql` as the database's superuser with every trigger off: what an attacker with the
/// database's keys could do.
async fn tamper(pool: &PgPool, sql: &str) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("set local session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(sql).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
}

/// `python3 scripts/audit_verify.py FILE`, as an auditor runs it: whether it passed, and what
/// it said.
fn verify_offline(file: &std::path::Path) -> (bool, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/audit_verify.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn problem(pool: &PgPool) -> Option<ChainBreak> {
    verify(pool).await.unwrap().problem
}
