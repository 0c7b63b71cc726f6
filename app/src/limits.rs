//! Attempt limits on everything a stranger can repeat cheaply and we answer expensively: sign-in,
//! sign-up, password changes, share-link guesses. Kept in Postgres, so every stateless server
//! shares them.
//!
//! An attempt is counted *before* the work it guards, by one upsert per counter that locks the
//! counter's row: of 40 parallel attempts exactly `max` get through, whatever their timing.
//! Counters cover fixed windows; an attempt passes while this window's count plus the previous
//! window's stays under the limit, so a burst astride a window boundary gains nothing.

use sqlx::PgPool;

use crate::error::AppError;

/// How many attempts of one kind a subject may make per window.
#[derive(Debug)]
pub struct Limit {
    /// The stored name of the counter; never change one.
    kind: &'static str,
    pub max: i32,
    window_secs: i32,
}

impl Limit {
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The window's length, as the attempt functions of the database take it.
    pub fn window_secs(&self) -> f64 {
        f64::from(self.window_secs)
    }

    const fn new(kind: &'static str, max: i32, window_secs: i32) -> Limit {
        Limit {
            kind,
            max,
            window_secs,
        }
    }
}

const MINUTES_15: i32 = 15 * 60;

/// Password checks for one email from one untrusted client (accounts or not: the answer never
/// reveals which).
pub const SIGN_IN_EMAIL_CLIENT: Limit = Limit::new("sign_in.email_client", 5, MINUTES_15);
/// Password checks for one email from all untrusted clients together: a slowdown against
/// guessing from many addresses, which never applies to the account's trusted browsers.
pub const SIGN_IN_EMAIL: Limit = Limit::new("sign_in.email_untrusted", 20, MINUTES_15);
/// Password checks from one untrusted client address (which may be a whole office behind NAT).
pub const SIGN_IN_ADDRESS: Limit = Limit::new("sign_in.address", 20, MINUTES_15);
/// Password checks from one trusted browser (its device cookie's id): its own counter, which
/// strangers' guesses never fill.
pub const SIGN_IN_DEVICE: Limit = Limit::new("sign_in.device", 10, MINUTES_15);
/// Accounts created from one client address per hour (`SIGNUP_PER_ADDRESS_PER_HOUR`).
pub const fn sign_up_address(max: i32) -> Limit {
    Limit::new("sign_up.address", max, 60 * 60)
}
/// Role assumptions one signed-in user causes per minute (`ASSUMPTIONS_PER_USER_PER_MINUTE`):
/// every AWS-touching request spends Crossview's own STS quota, which all users share.
pub const fn assumptions_user(max: i32) -> Limit {
    Limit::new("assume.user", max, 60)
}
/// Role assumptions for opens of one owner's share links per minute (the same number): a
/// link opened by many strangers spends this, never its owner's own allowance.
pub const fn share_opens_owner(max: i32) -> Limit {
    Limit::new("assume.share_owner", max, 60)
}
/// Grants (invitations) one user makes per hour: each names an address, and a flood of them
/// would be a way to mail-bomb or probe.
pub const GRANTS_USER: Limit = Limit::new("grant.user", 30, 60 * 60);
/// Current-password checks for one signed-in user.
pub const PASSWORD_CHANGE_USER: Limit = Limit::new("password_change.user", 5, MINUTES_15);
/// Second-step codes (authenticator or recovery) for one account from untrusted browsers: only
/// someone who knew the password got this far, and 5 guesses in 15 minutes at 3 live codes in a
/// million leave them nowhere.
pub const SECOND_STEP_USER: Limit = Limit::new("second_step.user", 5, MINUTES_15);
/// Second-step codes from one browser trusted for the account: its own counter, so that a
/// thief with the password cannot lock the rightful user out.
pub const SECOND_STEP_DEVICE: Limit = Limit::new("second_step.device", 10, MINUTES_15);
/// Emailed reset links asked for one address per hour (the mailbox's owner is not to be
/// flooded), and asked for from one client address.
pub const FORGOT_EMAIL: Limit = Limit::new("forgot.email", 3, 60 * 60);
pub const FORGOT_ADDRESS: Limit = Limit::new("forgot.address", 10, 60 * 60);
/// Share-link tokens that match no link, from one client address.
pub const SHARE_UNKNOWN_ADDRESS: Limit = Limit::new("share.unknown", 30, MINUTES_15);
/// Password guesses at one share link from one client address: a guesser elsewhere never locks
/// out the person the link was meant for, and 10 guesses a quarter hour find no real password.
pub const SHARE_PASSWORD: Limit = Limit::new("share.password", 10, MINUTES_15);

/// One attempt's count: a limit and whom it counts.
pub type Counter<'a> = (&'a Limit, &'a str);

/// Counts one attempt against every counter, all or none: `RateLimited` if any is spent (and
/// then none is charged).
pub async fn take(pool: &PgPool, counters: &[Counter<'_>]) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    for (limit, subject) in counters {
        let previous = sqlx::query_scalar!(
            r#"select coalesce(sum(n), 0)::int4 as "n!" from attempts
               where kind = $1 and subject = $2
                 and window_start = attempt_window($3) - make_interval(secs => $3)"#,
            limit.kind,
            subject,
            limit.window_secs()
        )
        .fetch_one(&mut *tx)
        .await?;
        // The row lock taken here is held to the end of the transaction: parallel attempts
        // on the same counter are counted one after another, each seeing the ones before.
        let counted = sqlx::query_scalar!(
            "insert into attempts (kind, subject, window_start, n)
             select $1, $2, attempt_window($3), 1
             where $4::int4 < $5::int4
             on conflict (kind, subject, window_start)
             do update set n = attempts.n + 1 where attempts.n + $4::int4 < $5::int4
             returning n",
            limit.kind,
            subject,
            limit.window_secs(),
            previous,
            limit.max
        )
        .fetch_optional(&mut *tx)
        .await?;
        match counted {
            // Dropping the transaction rolls back what the other counters took.
            None => return Err(AppError::RateLimited),
            // A new window's first attempt: a good moment to forget the old ones.
            Some(1) => {
                sqlx::query!("delete from attempts where window_start < now() - interval '1 day'")
                    .execute(&mut *tx)
                    .await?;
            }
            Some(_) => {}
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Returns one attempt that turned out not to count (a correct password from an address, a
/// share token that exists, work refused before it started).
pub async fn give_back(pool: &PgPool, (limit, subject): Counter<'_>) -> Result<(), AppError> {
    sqlx::query!(
        "update attempts set n = n - 1
         where kind = $1 and subject = $2 and n > 0
           and window_start = attempt_window($3)",
        limit.kind,
        subject,
        limit.window_secs()
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets a subject's attempts (a correct password clears that email's failures).
pub async fn clear(pool: &PgPool, (limit, subject): Counter<'_>) -> Result<(), AppError> {
    sqlx::query!(
        "delete from attempts where kind = $1 and subject = $2",
        limit.kind,
        subject
    )
    .execute(pool)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: Limit = Limit::new("test.two", 2, 60);
    const TEN: Limit = Limit::new("test.ten", 10, 60);

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn parallel_attempts_pass_exactly_max(pool: PgPool) {
        let tries = (0..40).map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { take(&pool, &[(&TEN, "x")]).await })
        });
        let results = futures::future::join_all(tries).await;
        let passed = results.iter().filter(|r| matches!(r, Ok(Ok(())))).count();
        assert_eq!(passed, 10);
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn all_or_none_and_the_previous_window_counts(pool: PgPool) {
        take(&pool, &[(&TWO, "a"), (&TEN, "a")]).await.unwrap();
        take(&pool, &[(&TWO, "a")]).await.unwrap();
        // TWO is spent: TEN is not charged for the refused attempt.
        assert_eq!(
            take(&pool, &[(&TEN, "a"), (&TWO, "a")]).await,
            Err(AppError::RateLimited)
        );
        let ten: i32 = sqlx::query_scalar("select n from attempts where kind = 'test.ten'")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(ten, 1);
        // Into the next window: the previous one still counts.
        sqlx::query("update attempts set window_start = window_start - interval '60 seconds'")
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(
            take(&pool, &[(&TWO, "a")]).await,
            Err(AppError::RateLimited)
        );
        give_back(&pool, (&TWO, "a")).await.unwrap(); // nothing in this window to give back
        assert_eq!(
            take(&pool, &[(&TWO, "a")]).await,
            Err(AppError::RateLimited)
        );
        // Two windows on, it has passed; another subject was never limited.
        sqlx::query("update attempts set window_start = window_start - interval '60 seconds'")
            .execute(&pool)
            .await
            .unwrap();
        take(&pool, &[(&TWO, "a")]).await.unwrap();
        take(&pool, &[(&TWO, "b")]).await.unwrap();
    }
}
