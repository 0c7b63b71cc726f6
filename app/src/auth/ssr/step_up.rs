//! Step-up: what can hand over a tenant's data or rewrite who may do what (connections, grants,
//! share links, the admin console, the audit export) needs this session to have proved its user
//! within the last 10 minutes, with a second factor, or with the password where the account has
//! no second factor. Signing in counts as a proof; so does confirming on the spot.

use sqlx::PgPool;

pub use super::proof::{forget, is_fresh, mark, require, FRESH_SECS};
use super::{check_current_password, factors, passkeys, AuthSession, SessionUser};
use crate::{auth::StepUpOptions, config::Config, error::AppError, limits};

/// How `user` can prove it now.
pub async fn options(
    pool: &PgPool,
    config: &Config,
    user_id: i64,
) -> Result<StepUpOptions, AppError> {
    let code = factors::has_app(pool, user_id).await?;
    let has_keys = passkeys::has_passkey(pool, user_id).await?;
    let has_password = super::has_password(pool, user_id).await?;
    let linked: Vec<(String,)> =
        sqlx::query_as("select provider from sso_identities where user_id = $1")
            .bind(user_id)
            .fetch_all(pool)
            .await?;
    let sso = config
        .sso
        .iter()
        .filter(|p| config.sign_in.sso && linked.iter().any(|(id,)| *id == p.id))
        .map(|p| (p.id.clone(), p.label.clone()))
        .collect();
    Ok(StepUpOptions {
        code,
        passkey: has_keys && config.sign_in.passkey,
        password: has_password && !(code || has_keys),
        sso,
        fresh: false,
    })
}

/// Proves the user with a code from their authenticator app (or a recovery code), or, for an
/// account without a second factor, its password. Limited like the second step of sign-in.
pub async fn with_secret(
    auth: &AuthSession,
    pool: &PgPool,
    config: &Config,
    user: &SessionUser,
    secret: &str,
) -> Result<(), AppError> {
    let ways = options(pool, config, user.id).await?;
    if ways.code {
        let subject = user.id.to_string();
        let counter = (&limits::SECOND_STEP_USER, subject.as_str());
        limits::take(pool, &[counter]).await?;
        factors::check_code(pool, user, secret)
            .await?
            .ok_or(AppError::CodeInvalid)?;
        limits::clear(pool, counter).await?;
    } else if ways.password {
        check_current_password(pool, user.id, secret).await?;
    } else {
        // A passkey or the provider proves this account: not something typed.
        return Err(AppError::StepUpRequired);
    }
    mark(auth).await
}

/// Proves the user with one of their passkeys: the answer to the options of
/// [`passkeys::begin_second_step`], checked.
pub async fn passkey_finish(
    auth: &AuthSession,
    pool: &PgPool,
    config: &Config,
    user_id: i64,
    credential: &str,
) -> Result<(), AppError> {
    passkeys::finish_second_step(auth, pool, config, user_id, credential).await?;
    mark(auth).await
}
