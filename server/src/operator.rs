//! Commands for whoever runs the deployment, on the server binary itself:
//!
//! ```text
//! server admin grant EMAIL     make EMAIL's account an administrator
//! server admin revoke EMAIL    make it an ordinary account again (never the last administrator)
//! server admin reset EMAIL     print a one-time link (valid 1 hour) that sets a new password
//! server migrate              migrate as the schema's owner (MIGRATION_DATABASE_URL) and grant
//!                              DATABASE_URL's role what serving needs
//! server audit verify [--against DIR]
//!                              walk the audit chain; exit 2 at the first altered, removed or
//!                              out-of-order row, or at a digest in DIR the trail no longer
//!                              matches (AUDIT_DIGEST_KEY checks each digest's signature)
//! server audit digest          write a signed digest of the chain's head to AUDIT_DIGEST_DIR
//! server audit shards N       spread appends over N chains (1–256; 4 by default): heads above
//!                              N stay, are verified and take no rows until N grows again
//! server audit archive --before YYYY-MM [--to DIR]
//!                              write every month before YYYY-MM to DIR/audit-YYYY-MM.ndjson
//!                              (with its chain), then drop it from the database
//! ```
//!
//! They need only `DATABASE_URL` (and `MIGRATION_DATABASE_URL` where another role owns the
//! schema: archiving changes the audit trail's tables), and are audited as done by `operator`.

use std::path::Path;

use app::{
    audit::{
        ssr::{archive, digest, record, verify_audited, Event},
        Activity, Outcome,
    },
    auth::ssr::{change_user, reset, Account, Change},
    config::AuditDigest,
    error::AppError,
};
use sqlx::PgPool;

pub const USAGE: &str = "usage: server migrate | server admin grant EMAIL | \
                         server admin revoke EMAIL | server admin reset EMAIL | \
                         server audit verify [--against DIR] | \
                         server audit digest | server audit shards N | \
                         server audit archive --before YYYY-MM [--to DIR]";

/// Runs one command; the answer is what to print.
pub async fn run(pool: &PgPool, args: &[String]) -> Result<String, String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args[..] {
        ["admin", "grant", email] => admin(pool, email, true).await,
        ["admin", "revoke", email] => admin(pool, email, false).await,
        ["admin", "reset", email] => reset(pool, email).await,
        ["audit", "verify"] => audit_verify(pool, None).await,
        ["audit", "verify", "--against", dir] => audit_verify(pool, Some(dir)).await,
        ["audit", "digest"] => {
            let path = digest::write(pool, &digest_key()?)
                .await
                .map_err(|err| err.to_string())?;
            Ok(format!("the chain's head is signed in {}", path.display()))
        }
        ["audit", "shards", n] => audit_shards(pool, n).await,
        ["audit", "archive", "--before", month] => audit_archive(pool, month, ".").await,
        ["audit", "archive", "--before", month, "--to", dir] => {
            audit_archive(pool, month, dir).await
        }
        _ => Err(USAGE.to_owned()),
    }
}

async fn admin(pool: &PgPool, email: &str, admin: bool) -> Result<String, String> {
    match change_user(pool, None, Account::Email(email), Change::Admin(admin)).await {
        Ok(_) if admin => Ok(format!("{email} is now an administrator")),
        Ok(_) => Ok(format!("{email} is no longer an administrator")),
        Err(AppError::NotFound) => Err(format!("no account has the email {email}")),
        Err(err) => Err(err.to_string()),
    }
}

/// A one-time reset link for `email`'s account, shown this once: with `PUBLIC_URL` (the address
/// people open Crossview at) as a whole link, else as the path to open there.
async fn reset(pool: &PgPool, email: &str) -> Result<String, String> {
    let path = match reset::issue(pool, None, Account::Email(email)).await {
        Ok(path) => path,
        Err(AppError::NotFound) => return Err(format!("no account has the email {email}")),
        Err(err) => return Err(err.to_string()),
    };
    let base = std::env::var("PUBLIC_URL").unwrap_or_default();
    Ok(format!(
        "{}{path}\nopens once, within {} minutes, and sets a new password for {email}; hand it \
         over yourself (it is shown only now)",
        base.trim_end_matches('/'),
        reset::LIFETIME_MINUTES
    ))
}

/// The digests' key and directory, from the environment.
fn digest_key() -> Result<AuditDigest, String> {
    AuditDigest::from_env()
        .map_err(|err| err.to_string())?
        .ok_or_else(|| "set AUDIT_DIGEST_KEY and AUDIT_DIGEST_DIR".to_owned())
}

async fn audit_verify(pool: &PgPool, against: Option<&str>) -> Result<String, String> {
    let pins = match against {
        None => Vec::new(),
        Some(dir) => digest::read(&digest_key()?, Path::new(dir))?,
    };
    let report = verify_audited(pool, None, &pins)
        .await
        .map_err(|err| err.to_string())?;
    let digests = match against {
        None => String::new(),
        Some(dir) => format!(
            "; {} of the {} heads pinned by the digests in {dir} match it (the others are of \
             archived months or of shards still empty then)",
            report.pins_checked,
            pins.len()
        ),
    };
    match report.problem {
        None => Ok(format!(
            "the audit chain holds: {} rows from row {} in {} shards, newest row {}, heads' root \
             {}{digests}",
            report.rows, report.first_id, report.shards, report.last_id, report.root
        )),
        Some(problem) => Err(format!(
            "the audit chain is broken: {problem} ({} rows checked before it)",
            report.rows
        )),
    }
}

async fn audit_shards(pool: &PgPool, n: &str) -> Result<String, String> {
    let n: i16 = n
        .parse()
        .ok()
        .filter(|n| (1..=256).contains(n))
        .ok_or("the number of shards is a whole number from 1 to 256")?;
    let mut tx = pool.begin().await.map_err(|err| err.to_string())?;
    let before: i16 = sqlx::query_scalar("select shards from audit_settings for update")
        .fetch_one(&mut *tx)
        .await
        .map_err(|err| err.to_string())?;
    sqlx::query("select audit_set_shards($1)")
        .bind(n)
        .execute(&mut *tx)
        .await
        .map_err(|err| err.to_string())?;
    let event = Event {
        detail: Some(serde_json::json!({ "by": "operator", "from": before, "to": n })),
        ..Event::new(Activity::AuditShards, Outcome::Ok)
    };
    record(&mut *tx, event)
        .await
        .map_err(|err| err.to_string())?;
    tx.commit().await.map_err(|err| err.to_string())?;
    Ok(format!(
        "audit appends now spread over {n} shards (were {before})"
    ))
}

async fn audit_archive(pool: &PgPool, month: &str, dir: &str) -> Result<String, String> {
    let done = archive(pool, month, Path::new(dir)).await?;
    if done.is_empty() {
        return Ok(format!("no month before {month} is left to archive"));
    }
    Ok(done
        .iter()
        .map(|m| {
            format!(
                "{}: {} rows to {} (sha256 {}), dropped from the database",
                m.month,
                m.rows,
                m.file.display(),
                m.sha256
            )
        })
        .collect::<Vec<_>>()
        .join("\n"))
}
