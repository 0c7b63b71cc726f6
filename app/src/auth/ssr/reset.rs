//! Account recovery without a mail server: an administrator (or the operator, `server admin
//! reset EMAIL`) issues a one-time link that sets a new password. The link is shown once to
//! whoever issued it and handed over by them; only its hash is stored, it lives an hour, works
//! once, and a newer link for the same account replaces it. Using it ends every session of the
//! account, as a password change does.

use serde_json::json;
use sqlx::PgPool;

use super::{hash_password, validate_password, Account, SessionUser};
use crate::{
    audit::{
        ssr::{count_junk, record, Event},
        Activity, Outcome,
    },
    error::AppError,
    token,
};

/// How long a reset link works: one an administrator hands over, and one sent by email (which
/// sits in a mailbox meanwhile).
pub const LIFETIME_MINUTES: i32 = 60;
pub const EMAILED_LIFETIME_MINUTES: i32 = 30;

/// Issues a reset link for `account`, as `actor` (an administrator; `None`: the operator), and
/// returns its path (`/reset/<token>`): the only time the token exists outside the link.
pub async fn issue(
    pool: &PgPool,
    actor: Option<i64>,
    account: Account<'_>,
) -> Result<String, AppError> {
    let by = actor.map_or("operator", |_| "admin");
    issue_for(pool, actor, account, LIFETIME_MINUTES, by)
        .await
        .map(|(_, path)| path)
}

/// A user's own request for a reset link by email (the "forgot your password?" page): the link
/// goes to the account's address and lives 30 minutes. The answer is the same whether or not
/// the address has an account (the caller runs this after answering); `None` when it has none.
pub async fn request_by_email(
    pool: &PgPool,
    email: &str,
) -> Result<Option<(String, String)>, AppError> {
    let user: Option<i64> =
        sqlx::query_scalar("select id from users where lower(email) = lower($1) and not disabled")
            .bind(email.trim())
            .fetch_optional(pool)
            .await?;
    let Some(user) = user else {
        return Ok(None);
    };
    let account = Account::Id(user);
    let issued = issue_for(pool, Some(user), account, EMAILED_LIFETIME_MINUTES, "email").await?;
    Ok(Some(issued))
}

/// Issues a link for `account` that lives `minutes`, audited as issued `by`; returns the
/// account's address and the link's path.
async fn issue_for(
    pool: &PgPool,
    actor: Option<i64>,
    account: Account<'_>,
    minutes: i32,
    by: &str,
) -> Result<(String, String), AppError> {
    let (id, email) = account.parts();
    let user: (i64, String) =
        sqlx::query_as("select id, email from users where id = $1 or lower(email) = lower($2)")
            .bind(id)
            .bind(email)
            .fetch_optional(pool)
            .await?
            .ok_or(AppError::NotFound)?;
    let token = token::new();
    let mut tx = pool.begin().await?;
    // One live link per account: an older one stops working.
    sqlx::query("delete from password_resets where user_id = $1 and used_at is null")
        .bind(user.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into password_resets (user_id, token_hash, issued_by, expires_at)
         values ($1, $2, $3, now() + make_interval(mins => $4))",
    )
    .bind(user.0)
    .bind(token::digest(&token))
    .bind(actor)
    .bind(minutes)
    .execute(&mut *tx)
    .await?;
    let event = Event {
        actor_id: actor,
        detail: Some(json!({ "user": user.0, "email": user.1, "by": by })),
        ..Event::new(Activity::PasswordResetIssue, Outcome::Ok)
    };
    record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok((user.1, format!("/reset/{token}")))
}

/// Whether `token` opens a live reset link, and for which address (the page names it).
pub async fn email_of(pool: &PgPool, token: &str) -> Result<String, AppError> {
    sqlx::query_scalar(
        "select u.email from password_resets r join users u on u.id = r.user_id
         where r.token_hash = $1 and r.used_at is null and r.expires_at > now()",
    )
    .bind(token::digest(token))
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::ResetLinkInvalid)
}

/// Sets the new password through a live link, once: the link is spent and every session of the
/// account ends (a new epoch). The caller signs the user in with what this returns.
pub async fn redeem(
    pool: &PgPool,
    token: &str,
    new: &str,
    confirm: &str,
) -> Result<SessionUser, AppError> {
    let email = match email_of(pool, token).await {
        Ok(email) => email,
        Err(err) => {
            // Strangers can guess without end: counted, not logged row by row.
            count_junk(pool, "reset.unknown").await?;
            return Err(err);
        }
    };
    validate_password(new, &email)?;
    if new != confirm {
        return Err(AppError::PasswordMismatch);
    }
    let hash = hash_password(new.to_owned()).await?;
    let mut tx = pool.begin().await?;
    // Spent under its row's lock: of two uses at once, one finds it used.
    let user: i64 = sqlx::query_scalar(
        "update password_resets set used_at = now()
         where token_hash = $1 and used_at is null and expires_at > now()
         returning user_id",
    )
    .bind(token::digest(token))
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::ResetLinkInvalid)?;
    let user: SessionUser = sqlx::query_as(
        "update users set password_hash = $2, auth_epoch = gen_random_uuid()
         where id = $1 and not disabled
         returning id, email, is_admin, auth_epoch::text as epoch,
                unread_notices(id) as unread_notices",
    )
    .bind(user)
    .bind(hash)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::AccountDisabled)?;
    let event = Event {
        actor_id: Some(user.id),
        detail: Some(json!({ "user": user.id })),
        ..Event::new(Activity::PasswordReset, Outcome::Ok)
    };
    record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(user)
}
