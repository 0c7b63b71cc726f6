//! Sign-in attempt limits, kept in Postgres so that every stateless server shares them.
//!
//! Only failures count. The same answer is given whether or not the email has an account, so
//! the limit reveals nothing about which accounts exist.

use sqlx::PgPool;

use crate::error::AppError;

/// Failures allowed for one email within the window.
pub const MAX_PER_EMAIL: i64 = 5;
/// Failures allowed from one client address within the window (it may be shared, e.g. an office).
pub const MAX_PER_ADDRESS: i64 = 20;

pub async fn is_limited(
    pool: &PgPool,
    email: &str,
    address: Option<&str>,
) -> Result<bool, AppError> {
    let row = sqlx::query!(
        r#"select
             count(*) filter (where lower(email) = lower($1)) as "by_email!",
             count(*) filter (where address = $2) as "by_address!"
           from failed_logins
           where at > now() - interval '15 minutes'
             and (lower(email) = lower($1) or address = $2)"#,
        email,
        address
    )
    .fetch_one(pool)
    .await?;
    Ok(row.by_email >= MAX_PER_EMAIL || row.by_address >= MAX_PER_ADDRESS)
}

pub async fn record_failure(
    pool: &PgPool,
    email: &str,
    address: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query!(
        "insert into failed_logins (email, address) values ($1, $2)",
        email,
        address
    )
    .execute(pool)
    .await?;
    // Old rows no longer count for anything; trimming here keeps the table small without a job.
    sqlx::query!("delete from failed_logins where at < now() - interval '1 day'")
        .execute(pool)
        .await?;
    Ok(())
}

/// A successful sign-in clears that email's failures (not the address's).
pub async fn forget(pool: &PgPool, email: &str) -> Result<(), AppError> {
    sqlx::query!(
        "delete from failed_logins where lower(email) = lower($1)",
        email
    )
    .execute(pool)
    .await?;
    Ok(())
}
