//! Second factors: codes from an authenticator app (TOTP, RFC 6238, by `totp-rs`) and
//! single-use recovery codes, and the sign-in's second step that stands between a right
//! password and a session.
//!
//! Between the two steps the session holds only who passed the first (and their epoch, so a
//! password change in between voids it), for five minutes. Codes are limited like passwords:
//! per account from untrusted browsers, and on its own counter from a browser trusted for the
//! account, so whoever stole the password cannot lock the rightful user out.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;
use totp_rs::{Algorithm, Builder, Totp};

use super::{device, log_in, name_method, normal_email, AuthSession, SessionUser};
use crate::{
    audit::{
        ssr::{record, Event},
        Activity, Outcome,
    },
    config::Config,
    error::AppError,
    limits, token,
};

/// Recovery codes made at a time.
pub const RECOVERY_CODES: usize = 10;
/// A recovery code's characters (no 0/o, 1/l/i to misread): 31^16, about 2^79.
pub(super) const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
pub(super) const RECOVERY_LEN: usize = 16;

/// What the authenticator app shows as the account's issuer.
const ISSUER: &str = "Crossview";

/// Session key: who passed the password step and may now give a code.
const PENDING: &str = "crossview.second_step";
/// Session key: how this session's sign-in proved a second factor (absent: it did not).
pub(super) const SECOND_FACTOR: &str = "crossview.second_factor";
/// How long the second step waits for its code.
const PENDING_SECS: i64 = 300;

#[derive(Serialize, Deserialize)]
struct Pending {
    user: i64,
    epoch: String,
    at: i64,
    /// How the first step was passed: `password`, or `sso:<provider>`.
    #[serde(default = "password")]
    first: String,
}

fn password() -> String {
    "password".to_owned()
}

/// How a second step was passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    App,
    /// A recovery code, with how many remain unused.
    RecoveryCode {
        left: i64,
    },
}

impl Proof {
    /// The sign-in method the audit trail names, after a first step passed by `first`.
    pub fn method(self, first: &str) -> String {
        match self {
            Proof::App => format!("{first}+totp"),
            Proof::RecoveryCode { .. } => format!("{first}+recovery_code"),
        }
    }
}

pub(super) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The account's authenticator: SHA-1, 6 digits, 30-second steps (what every app supports),
/// accepting the step before and after the current one for clocks a little off.
pub(super) fn authenticator(secret: Vec<u8>, email: &str) -> Result<Totp, AppError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        // The otpauth label cannot hold a colon; an address may.
        .with_account_name(email.replace(':', ""))
        .build()
        .map_err(AppError::internal)
}

/// Whether the account signs in with a second factor.
pub async fn has_second_factor(pool: &PgPool, user_id: i64) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar(
        "select exists (select 1 from totp_factors where user_id = $1 and confirmed_at is not null)
             or exists (select 1 from passkeys where user_id = $1)",
    )
    .bind(user_id)
    .fetch_one(pool)
    .await?)
}

/// Whether the account has a confirmed authenticator app.
pub async fn has_app(pool: &PgPool, user_id: i64) -> Result<bool, AppError> {
    Ok(secret(pool, user_id, true).await?.is_some())
}

/// Whether this session's sign-in proved a second factor.
pub async fn proved(auth: &AuthSession) -> Result<bool, AppError> {
    let method: Option<String> = auth
        .session
        .get(SECOND_FACTOR)
        .await
        .map_err(AppError::internal)?;
    Ok(method.is_some())
}

/// Signs `user` in on this session, marks it as having proved a second factor if `proof` says
/// so, and records the sign-in with its method.
pub async fn complete_sign_in(
    auth: &mut AuthSession,
    pool: &PgPool,
    user: &SessionUser,
    method: &str,
    second_factor: bool,
) -> Result<(), AppError> {
    log_in(auth, user).await?;
    name_method(auth, method).await?;
    super::proof::mark(auth).await?;
    if second_factor {
        mark_proved(auth, Some(method)).await?;
    }
    let event = Event {
        actor_id: Some(user.id),
        detail: Some(json!({ "method": method })),
        ..Event::new(Activity::SignIn, Outcome::Ok)
    };
    record(pool, event).await
}

/// After a first step passed by `first` (`password`, `sso:<provider>`): signs in at once when
/// that step proved a second factor too (`proved`: a provider's MFA) or the account has none,
/// and returns false; otherwise remembers who passed, for the second step, and returns true.
pub async fn after_first_step(
    auth: &mut AuthSession,
    pool: &PgPool,
    user: &SessionUser,
    first: &str,
    proved: bool,
) -> Result<bool, AppError> {
    if proved || !has_second_factor(pool, user.id).await? {
        let method = match proved {
            true => format!("{first}+mfa"),
            false => first.to_owned(),
        };
        complete_sign_in(auth, pool, user, &method, proved).await?;
        return Ok(false);
    }
    let pending = Pending {
        user: user.id,
        epoch: user.epoch.clone(),
        at: now(),
        first: first.to_owned(),
    };
    auth.session
        .insert(PENDING, pending)
        .await
        .map_err(AppError::internal)?;
    Ok(true)
}

/// The second step: checks `code` for the account that passed the password step on this
/// session, and signs it in. The step lasts five minutes and ends with a password change.
pub async fn second_step(
    auth: &mut AuthSession,
    pool: &PgPool,
    config: &Config,
    code: &str,
) -> Result<Proof, AppError> {
    let (pending, user) = pending(auth, pool).await?;
    let subject = user.id.to_string();
    let device = device::of_request(config, &normal_email(&user.email));
    let counter = match &device {
        Some(device) => (&limits::SECOND_STEP_DEVICE, device.as_str()),
        None => (&limits::SECOND_STEP_USER, subject.as_str()),
    };
    limits::take(pool, &[counter]).await?;
    let proof = check_code(pool, &user, code)
        .await?
        .ok_or(AppError::CodeInvalid)?;
    limits::clear(pool, counter).await?;
    auth.session
        .remove::<Pending>(PENDING)
        .await
        .map_err(AppError::internal)?;
    complete_sign_in(auth, pool, &user, &proof.method(&pending.first), true).await?;
    Ok(proof)
}

/// Who passed the first step on this session, within five minutes and with no password change
/// since.
async fn pending(auth: &AuthSession, pool: &PgPool) -> Result<(Pending, SessionUser), AppError> {
    let pending: Option<Pending> = auth
        .session
        .get(PENDING)
        .await
        .map_err(AppError::internal)?;
    let pending = pending
        .filter(|p| now().saturating_sub(p.at) < PENDING_SECS)
        .ok_or(AppError::SecondStepExpired)?;
    let user: SessionUser = sqlx::query_as(
        "select id, email, is_admin, auth_epoch::text as epoch,
                unread_notices(id) as unread_notices from users
         where id = $1 and not disabled",
    )
    .bind(pending.user)
    .fetch_optional(pool)
    .await?
    .filter(|u: &SessionUser| u.epoch == pending.epoch)
    .ok_or(AppError::SecondStepExpired)?;
    Ok((pending, user))
}

/// Which second factors the account waiting at the second step has: (an app, passkeys).
pub async fn pending_factors(auth: &AuthSession, pool: &PgPool) -> Result<(bool, bool), AppError> {
    let (_, user) = pending(auth, pool).await?;
    let app = has_app(pool, user.id).await?;
    Ok((app, super::passkeys::has_passkey(pool, user.id).await?))
}

/// The second step with a passkey: the options for the browser.
pub async fn passkey_step_begin(
    auth: &AuthSession,
    pool: &PgPool,
    config: &Config,
) -> Result<String, AppError> {
    let (_, user) = pending(auth, pool).await?;
    super::passkeys::begin_second_step(auth, pool, config, user.id).await
}

/// The second step with a passkey: its answer checked, the account signed in.
pub async fn passkey_step_finish(
    auth: &mut AuthSession,
    pool: &PgPool,
    config: &Config,
    credential: &str,
) -> Result<SessionUser, AppError> {
    let (pending, user) = pending(auth, pool).await?;
    super::passkeys::finish_second_step(auth, pool, config, user.id, credential).await?;
    auth.session
        .remove::<Pending>(PENDING)
        .await
        .map_err(AppError::internal)?;
    let method = format!("{}+passkey", pending.first);
    complete_sign_in(auth, pool, &user, &method, true).await?;
    Ok(user)
}

/// Spends `code` if it is the account's: the authenticator's current code (each step's once),
/// or an unused recovery code (spaces, dashes and case ignored).
pub(super) async fn check_code(
    pool: &PgPool,
    user: &SessionUser,
    code: &str,
) -> Result<Option<Proof>, AppError> {
    let code: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_lowercase();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        let Some(secret) = secret(pool, user.id, true).await? else {
            return Ok(None);
        };
        let Some(step) = accepted_step(secret, &user.email, &code)? else {
            return Ok(None);
        };
        // Spent under the row's lock: a code, once accepted, is never accepted again, nor is
        // one of an earlier step.
        let spent = sqlx::query(
            "update totp_factors set last_step = $2 where user_id = $1 and last_step < $2",
        )
        .bind(user.id)
        .bind(step)
        .execute(pool)
        .await?
        .rows_affected();
        return Ok((spent == 1).then_some(Proof::App));
    }
    if code.len() != RECOVERY_LEN {
        return Ok(None);
    }
    let spent = sqlx::query(
        "update recovery_codes set used_at = now()
         where user_id = $1 and code_hash = $2 and used_at is null",
    )
    .bind(user.id)
    .bind(token::digest(&code))
    .execute(pool)
    .await?
    .rows_affected();
    if spent == 0 {
        return Ok(None);
    }
    let left = recovery_codes_left(pool, user.id).await?;
    Ok(Some(Proof::RecoveryCode { left }))
}

/// The account's authenticator secret: the confirmed one, or the one being set up.
pub(super) async fn secret(
    pool: &PgPool,
    user_id: i64,
    confirmed: bool,
) -> Result<Option<Vec<u8>>, AppError> {
    Ok(sqlx::query_scalar(
        "select secret from totp_factors where user_id = $1 and (confirmed_at is not null) = $2",
    )
    .bind(user_id)
    .bind(confirmed)
    .fetch_optional(pool)
    .await?)
}

/// The time step whose code `code` is, within one step of now.
pub(super) fn accepted_step(
    secret: Vec<u8>,
    email: &str,
    code: &str,
) -> Result<Option<i64>, AppError> {
    let now = u64::try_from(now()).unwrap_or_default();
    let step = authenticator(secret, email)?.check(code, now);
    Ok(step.and_then(|s| i64::try_from(s).ok()))
}

pub(super) async fn recovery_codes_left(pool: &PgPool, user_id: i64) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar(
        "select count(*) from recovery_codes where user_id = $1 and used_at is null",
    )
    .bind(user_id)
    .fetch_one(pool)
    .await?)
}

/// Marks this session as having proved a second factor (`Some`: the one that just set it up)
/// or not (`None`: the factor was just removed).
pub async fn mark_proved(auth: &AuthSession, method: Option<&str>) -> Result<(), AppError> {
    let session = &auth.session;
    if method.is_some() {
        super::proof::mark(auth).await?;
    }
    match method {
        Some(method) => session.insert(SECOND_FACTOR, method).await,
        None => session.remove::<String>(SECOND_FACTOR).await.map(drop),
    }
    .map_err(AppError::internal)
}
