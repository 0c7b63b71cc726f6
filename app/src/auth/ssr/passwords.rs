//! The signed-in user's own password: proved before a change to how they sign in (under its own
//! limit), and changed.

use sqlx::PgPool;

use super::{
    hash_password, sso, step_up, validate_password, verify_password, AuthSession, SessionUser,
};
use crate::{error::AppError, limits};

/// Checks the signed-in user's own password before a change to how they sign in, under its own
/// limit: a stolen session must not become a way to guess the password it does not know.
pub async fn check_current_password(
    pool: &PgPool,
    user_id: i64,
    password: &str,
) -> Result<(), AppError> {
    let hash = stored_hash(pool, user_id).await?;
    verify_current(pool, user_id, password, hash).await
}

/// The enabled account's password hash ([`sso::NO_PASSWORD`] for one without a password).
async fn stored_hash(pool: &PgPool, user_id: i64) -> Result<String, AppError> {
    sqlx::query_scalar("select password_hash from users where id = $1 and not disabled")
        .bind(user_id)
        .fetch_optional(pool)
        .await?
        .ok_or(AppError::Unauthorized)
}

/// Before a change to how the account signs in: its password, or, for an account without one
/// (made by single sign-on), a sign-in or step-up within the last 10 minutes.
pub async fn prove_owner(
    auth: &AuthSession,
    pool: &PgPool,
    user_id: i64,
    password: &str,
) -> Result<(), AppError> {
    let hash = stored_hash(pool, user_id).await?;
    if hash == sso::NO_PASSWORD {
        return step_up::require(auth).await;
    }
    verify_current(pool, user_id, password, hash).await
}

/// Whether the account has a password (one made by single sign-on has none).
pub async fn has_password(pool: &PgPool, user_id: i64) -> Result<bool, AppError> {
    Ok(
        sqlx::query_scalar("select password_hash <> $2 from users where id = $1")
            .bind(user_id)
            .bind(sso::NO_PASSWORD)
            .fetch_one(pool)
            .await?,
    )
}

/// [`check_current_password`] for a caller that read the stored hash already.
async fn verify_current(
    pool: &PgPool,
    user_id: i64,
    password: &str,
    hash: String,
) -> Result<(), AppError> {
    let subject = user_id.to_string();
    let counter = (&limits::PASSWORD_CHANGE_USER, subject.as_str());
    limits::take(pool, &[counter]).await?;
    if !verify_password(password.to_owned(), hash).await? {
        return Err(AppError::WrongCurrentPassword);
    }
    limits::clear(pool, counter).await
}

/// Replaces the password and the session epoch, which ends the user's other sessions.
pub async fn change_password(
    pool: &PgPool,
    user_id: i64,
    current: &str,
    new: &str,
    confirm: &str,
) -> Result<SessionUser, AppError> {
    let (email, stored): (String, String) =
        sqlx::query_as("select email, password_hash from users where id = $1 and not disabled")
            .bind(user_id)
            .fetch_optional(pool)
            .await?
            .ok_or(AppError::Unauthorized)?;
    validate_password(new, &email)?;
    if new != confirm {
        return Err(AppError::PasswordMismatch);
    }
    verify_current(pool, user_id, current, stored).await?;
    let hash = hash_password(new.to_owned()).await?;
    let user = sqlx::query_as!(
        SessionUser,
        r#"update users set password_hash = $2, auth_epoch = gen_random_uuid() where id = $1
           returning id, email, is_admin, auth_epoch::text as "epoch!",
                     unread_notices(users.id) as "unread_notices!""#,
        user_id,
        hash
    )
    .fetch_one(pool)
    .await?;
    Ok(user)
}
