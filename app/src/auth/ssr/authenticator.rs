//! Setting up an authenticator app (TOTP) for two-step sign-in, turning it off, and the
//! recovery codes that stand in for it.

use rand::Rng;
use serde_json::json;
use sqlx::PgPool;

use super::{
    factors::{
        accepted_step, authenticator, has_second_factor, recovery_codes_left, secret,
        RECOVERY_ALPHABET, RECOVERY_CODES, RECOVERY_LEN,
    },
    prove_owner, AuthSession, SessionUser,
};
use crate::{
    audit::{
        ssr::{record, Event},
        Activity, Outcome,
    },
    auth::{AuthenticatorSetup, TwoStep},
    error::AppError,
    token,
};

/// Where the account's two-step sign-in stands.
pub async fn status(pool: &PgPool, user_id: i64) -> Result<TwoStep, AppError> {
    let row: Option<(bool,)> =
        sqlx::query_as("select confirmed_at is not null from totp_factors where user_id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
    Ok(TwoStep {
        password: super::has_password(pool, user_id).await?,
        on: row.is_some_and(|r| r.0),
        setting_up: row.is_some_and(|r| !r.0),
        recovery_codes_left: recovery_codes_left(pool, user_id).await?,
    })
}

/// Starts setting up an authenticator app: a new secret, pending until a code confirms it (a
/// setup started again replaces the pending one).
pub async fn begin(pool: &PgPool, user_id: i64) -> Result<(), AppError> {
    let secret = rand::random::<[u8; 20]>().to_vec();
    let started = sqlx::query(
        "insert into totp_factors (user_id, secret) values ($1, $2)
         on conflict (user_id) do update set secret = excluded.secret, created_at = now()
         where totp_factors.confirmed_at is null",
    )
    .bind(user_id)
    .bind(secret)
    .execute(pool)
    .await?
    .rows_affected();
    match started {
        0 => Err(AppError::TwoStepAlreadyOn),
        _ => Ok(()),
    }
}

/// The pending setup's secret, as the page shows it.
pub async fn setup(
    pool: &PgPool,
    user: &SessionUser,
) -> Result<Option<AuthenticatorSetup>, AppError> {
    let Some(secret) = secret(pool, user.id, false).await? else {
        return Ok(None);
    };
    let app = authenticator(secret, &user.email)?;
    let uri = app.to_url().map_err(AppError::internal)?;
    let qr_svg = crate::qr::svg(&uri)?;
    Ok(Some(AuthenticatorSetup {
        secret: app.secret().to_base32(),
        uri,
        qr_svg,
    }))
}

/// Turns the pending authenticator on, once the user's password and a first code from the app
/// prove both the person and the app. Makes the recovery codes (returned: the only time they
/// exist in clear) and ends the account's other sessions, as any change of factors does. The
/// caller signs this session in again with the returned user.
pub async fn confirm(
    auth: &AuthSession,
    pool: &PgPool,
    user: &SessionUser,
    password: &str,
    code: &str,
) -> Result<(SessionUser, Vec<String>), AppError> {
    prove_owner(auth, pool, user.id, password).await?;
    let secret = secret(pool, user.id, false)
        .await?
        .ok_or(AppError::TwoStepNotStarted)?;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let step = accepted_step(secret, &user.email, &code)?.ok_or(AppError::CodeInvalid)?;
    let mut tx = pool.begin().await?;
    let confirmed = sqlx::query(
        "update totp_factors set confirmed_at = now(), last_step = $2
         where user_id = $1 and confirmed_at is null",
    )
    .bind(user.id)
    .bind(step)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if confirmed == 0 {
        return Err(AppError::TwoStepNotStarted);
    }
    let codes = replace_recovery_codes(&mut tx, user.id).await?;
    let user = super::sessions::new_epoch(&mut tx, user.id).await?;
    let event = Event {
        actor_id: Some(user.id),
        detail: Some(json!({ "factor": "totp" })),
        ..Event::new(Activity::FactorAdd, Outcome::Ok)
    };
    record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok((user, codes))
}

/// Turns two-step sign-in off (the app and the recovery codes), after the password; ends the
/// account's other sessions.
pub async fn remove(
    auth: &AuthSession,
    pool: &PgPool,
    user_id: i64,
    password: &str,
) -> Result<SessionUser, AppError> {
    prove_owner(auth, pool, user_id, password).await?;
    let mut tx = pool.begin().await?;
    let removed = sqlx::query("delete from totp_factors where user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query("delete from recovery_codes where user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let user = super::sessions::new_epoch(&mut tx, user_id).await?;
    if removed > 0 {
        let event = Event {
            actor_id: Some(user_id),
            detail: Some(json!({ "factor": "totp" })),
            ..Event::new(Activity::FactorRemove, Outcome::Ok)
        };
        record(&mut *tx, event).await?;
    }
    tx.commit().await?;
    Ok(user)
}

/// New recovery codes, after the password: the old ones stop working.
pub async fn renew_recovery_codes(
    auth: &AuthSession,
    pool: &PgPool,
    user_id: i64,
    password: &str,
) -> Result<Vec<String>, AppError> {
    prove_owner(auth, pool, user_id, password).await?;
    if !has_second_factor(pool, user_id).await? {
        return Err(AppError::TwoStepNotStarted);
    }
    let mut tx = pool.begin().await?;
    let codes = replace_recovery_codes(&mut tx, user_id).await?;
    let event = Event {
        actor_id: Some(user_id),
        ..Event::new(Activity::RecoveryCodesRenew, Outcome::Ok)
    };
    record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(codes)
}

async fn replace_recovery_codes(
    tx: &mut sqlx::PgConnection,
    user_id: i64,
) -> Result<Vec<String>, AppError> {
    sqlx::query("delete from recovery_codes where user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let raw = fresh_codes();
    for code in &raw {
        sqlx::query("insert into recovery_codes (user_id, code_hash) values ($1, $2)")
            .bind(user_id)
            .bind(token::digest(code))
            .execute(&mut *tx)
            .await?;
    }
    // Shown in groups of four; typed with or without the dashes.
    let shown = raw.iter().map(|code| {
        let groups: Vec<&str> = (0..RECOVERY_LEN / 4)
            .map(|i| &code[i * 4..i * 4 + 4])
            .collect();
        groups.join("-")
    });
    Ok(shown.collect())
}

/// New recovery codes, as typed without dashes (drawn before any await: the thread's generator
/// stays on its thread).
fn fresh_codes() -> Vec<String> {
    let mut rng = rand::thread_rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            (0..RECOVERY_LEN)
                .map(|_| RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())] as char)
                .collect()
        })
        .collect()
}
