//! Server side of accounts: the axum-login backend, password hashing, and the queries.

mod accounts;
mod address;
pub mod authenticator;
pub mod hashing;
mod passwords;
mod sessions;

pub mod device;
pub mod factors;
pub mod passkeys;
mod proof;
pub mod reset;
pub mod sso;
pub mod step_up;
pub(in crate::auth) use accounts::email_taken;
pub use accounts::{change_user, create_user, Account, Change};
pub use address::{client_address, client_address_of, counted_as, forwarded_client, safe_next};
pub use passwords::{change_password, check_current_password, has_password, prove_owner};
pub use sessions::{
    describe_browser, end, end_others, of_user, one_read_per_request, Sessions, AUTH_DATA_KEY,
    IDLE_DAYS,
};

use std::fmt;

use axum_login::{AuthUser, AuthnBackend, UserId};
use http::request::Parts;
use serde_json::json;
use sqlx::PgPool;

use super::User;
use crate::{
    audit::{
        ssr::{count_junk, record, Event},
        Activity, Outcome,
    },
    error::AppError,
    limits,
};

pub type AuthSession = axum_login::AuthSession<Backend>;

/// The user as the session layer sees it: the public fields plus the session epoch.
#[derive(Clone, sqlx::FromRow)]
pub struct SessionUser {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
    /// The user's session epoch (a uuid as text), only ever compared for equality.
    epoch: String,
    /// Notices not read yet, as this request read the user: what every page's header shows,
    /// read with the session so that it costs the page no query of its own.
    pub unread_notices: i64,
}

impl fmt::Debug for SessionUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionUser")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SessionUser {
    pub fn public(&self) -> User {
        User {
            id: self.id,
            email: self.email.clone(),
            is_admin: self.is_admin,
        }
    }
}

impl AuthUser for SessionUser {
    type Id = i64;

    fn id(&self) -> i64 {
        self.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        self.epoch.as_bytes()
    }
}

/// Loads users for the session layer; sign-in itself goes through [`sign_in`], which adds the
/// rate limit.
#[derive(Clone)]
pub struct Backend {
    pool: PgPool,
}

impl Backend {
    pub fn new(pool: PgPool) -> Self {
        Backend { pool }
    }
}

pub struct Credentials {
    pub email: String,
    pub password: String,
}

impl AuthnBackend for Backend {
    type User = SessionUser;
    type Credentials = Credentials;
    type Error = AppError;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<SessionUser>, AppError> {
        let row = sqlx::query!(
            r#"select id, email, is_admin, disabled, password_hash, auth_epoch::text as "epoch!",
                      unread_notices(users.id) as "unread!"
               from users where lower(email) = lower($1)"#,
            normal_email(&creds.email)
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            // Spend the same time as a real check so response times do not reveal accounts.
            hash_password(creds.password).await?;
            return Ok(None);
        };
        if !verify_password(creds.password, row.password_hash).await? {
            return Ok(None);
        }
        if row.disabled {
            return Err(AppError::AccountDisabled);
        }
        Ok(Some(SessionUser {
            id: row.id,
            email: row.email,
            is_admin: row.is_admin,
            epoch: row.epoch,
            unread_notices: row.unread,
        }))
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<SessionUser>, AppError> {
        if let Some(user) = sessions::loaded_user(*id) {
            return Ok(user);
        }
        let user = sqlx::query_as!(
            SessionUser,
            r#"select id, email, is_admin, auth_epoch::text as "epoch!",
                      unread_notices(users.id) as "unread_notices!"
               from users where id = $1 and not disabled"#,
            id
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(user)
    }
}

/// The auth session of the current request.
pub async fn auth_session() -> Result<AuthSession, AppError> {
    leptos_axum::extract::<AuthSession>()
        .await
        .map_err(AppError::internal)
}

/// Session key: when the session's user signed in (unix seconds), for the absolute lifetime.
const SIGNED_IN_AT: &str = "crossview.signed_in_at";

/// Signs `user` in on this session under a new session id, and starts its absolute lifetime.
pub async fn log_in(auth: &mut AuthSession, user: &SessionUser) -> Result<(), AppError> {
    if auth.user.is_some() {
        // axum-login renews the id only for a session not yet signed in; signing in again (a
        // password change) must renew it too.
        auth.session.cycle_id().await.map_err(AppError::internal)?;
    }
    auth.login(user).await.map_err(AppError::internal)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    auth.session
        .insert(SIGNED_IN_AT, now)
        .await
        .map_err(AppError::internal)?;
    // Where from, for the account's sessions list.
    let agent = user_agent();
    let address = match leptos::prelude::use_context::<crate::state::AppState>() {
        Some(state) => client_address(&state.config).await,
        None => None,
    };
    let client = sessions::Client { agent, address };
    auth.session
        .insert(sessions::CLIENT, client)
        .await
        .map_err(AppError::internal)
}

/// The current request's `User-Agent`, cut to 200 characters (empty outside a request).
pub fn user_agent() -> String {
    let parts = leptos::prelude::use_context::<Parts>();
    parts
        .as_ref()
        .and_then(|p| p.headers.get(http::header::USER_AGENT))
        .and_then(|v| v.to_str().ok())
        .map(|a| a.chars().take(200).collect())
        .unwrap_or_default()
}

/// Names how this session signed in, for its sessions list.
async fn name_method(auth: &AuthSession, method: &str) -> Result<(), AppError> {
    auth.session
        .insert(sessions::METHOD, method)
        .await
        .map_err(AppError::internal)
}

/// Audits that the user signed out `count` of their other sessions.
pub async fn record_session_end(pool: &PgPool, user_id: i64, count: u64) -> Result<(), AppError> {
    let event = Event {
        actor_id: Some(user_id),
        detail: Some(json!({ "sessions": count })),
        ..Event::new(Activity::SessionEnd, Outcome::Ok)
    };
    record(pool, event).await
}

/// The id of this request's session, if it has one.
pub fn session_id(auth: &AuthSession) -> Option<String> {
    auth.session.id().map(|id| id.to_string())
}

/// Ends a signed-in session older than `max` since its sign-in, however active it has been (a
/// session without a sign-in time is as old as can be). Returns whether it ended.
pub async fn end_if_too_old(
    auth: &mut AuthSession,
    max: std::time::Duration,
) -> Result<bool, AppError> {
    if auth.user.is_none() {
        return Ok(false);
    }
    let signed_in_at: Option<i64> = auth
        .session
        .get(SIGNED_IN_AT)
        .await
        .map_err(AppError::internal)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let max = i64::try_from(max.as_secs()).unwrap_or(i64::MAX);
    if signed_in_at.is_some_and(|at| now.saturating_sub(at) < max) {
        return Ok(false);
    }
    auth.logout().await.map_err(AppError::internal)?;
    Ok(true)
}

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A deliberately plain check: one `@`, a dotted domain, no spaces or control characters.
pub fn validate_email(email: &str) -> Result<(), AppError> {
    let ok = (3..=254).contains(&email.len())
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with(['.', '-'])
                    && !domain.ends_with(['.', '-'])
                    && !domain.contains("..")
            }
            None => false,
        };
    if ok {
        Ok(())
    } else {
        Err(AppError::EmailInvalid)
    }
}

/// 12 to 128 characters, and not one that lists of breached passwords or a simple pattern
/// (keyboard walks, dates, repeats, the email itself) would find quickly: an offline estimate
/// (zxcvbn, the one Dropbox built from breach corpora) must put it beyond ~10^8 guesses: score 3
/// of 4, safe against offline guessing of a slow hash such as Argon2.
pub fn validate_password(password: &str, email: &str) -> Result<(), AppError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AppError::PasswordTooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AppError::PasswordTooLong);
    }
    let local = email.split('@').next().unwrap_or_default();
    let score = zxcvbn::zxcvbn(password, &[email, local, "crossview"]).score();
    if score < zxcvbn::Score::Three {
        return Err(AppError::PasswordCommon);
    }
    Ok(())
}

async fn hash_password(password: String) -> Result<String, AppError> {
    hashing::run(move || hashing::hash(password.as_bytes()))
        .await?
        .map_err(AppError::internal)
}

async fn verify_password(password: String, hash: String) -> Result<bool, AppError> {
    if hash == sso::NO_PASSWORD {
        // An account without a password (single sign-on): no guess is right, and the answer
        // takes as long as a real check.
        hash_password(password).await?;
        return Ok(false);
    }
    hashing::run(move || hashing::verify(password.as_bytes(), &hash))
        .await?
        .map_err(AppError::internal)
}

/// Serializes what decides who administers: sign-ups and changes of rights. (An unchecked query:
/// the lock function returns `void`, which the checked macros cannot type.)
/// An email as accounts are looked up and sign-in attempts counted: trimmed and lower-cased,
/// computed once, here (the lookup compares it with `lower(email)`).
pub fn normal_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Checks a password under attempt limits that no stranger can turn into a lockout (OWASP's
/// device cookies, [`device`]). From a browser trusted for this account (`device`: its id), an
/// attempt counts on that browser's own counter only. From anywhere else it counts per email
/// and client address, per client address, and per email across all untrusted clients (a
/// slowdown that never touches trusted browsers). Attempts are counted before the hash runs, so
/// a burst of parallel guesses gets no more checks than the limit; a correct password clears
/// the email's counts and returns the address's attempt.
pub async fn sign_in(
    pool: &PgPool,
    email: &str,
    password: &str,
    address: Option<&str>,
    device: Option<&str>,
) -> Result<SessionUser, AppError> {
    // No account has an address of another shape: nothing to count, hash or store.
    if validate_email(email.trim()).is_err() {
        return Err(AppError::BadCredentials);
    }
    let subject = normal_email(email);
    let from_client = format!("{subject} {}", address.unwrap_or("-"));
    let counters: Vec<limits::Counter<'_>> = match device {
        Some(device) => vec![(&limits::SIGN_IN_DEVICE, device)],
        None => std::iter::once((&limits::SIGN_IN_EMAIL_CLIENT, from_client.as_str()))
            .chain([(&limits::SIGN_IN_EMAIL, subject.as_str())])
            .chain(address.map(|address| (&limits::SIGN_IN_ADDRESS, address)))
            .collect(),
    };
    limits::take(pool, &counters).await?;
    let creds = Credentials {
        email: subject.clone(),
        password: password.to_owned(),
    };
    match Backend::new(pool.clone()).authenticate(creds).await {
        Ok(Some(user)) => {
            // The right password: this email's failures are forgotten, and a correct sign-in
            // does not count against an address that many people may share.
            for counter in &counters {
                match counter.0.kind() == limits::SIGN_IN_ADDRESS.kind() {
                    true => limits::give_back(pool, *counter).await?,
                    false => limits::clear(pool, *counter).await?,
                }
            }
            sqlx::query!(
                "update users set last_sign_in_at = now() where id = $1",
                user.id
            )
            .execute(pool)
            .await?;
            Ok(user)
        }
        Ok(None) => {
            count_junk(pool, "sign_in.failed").await?;
            Err(AppError::BadCredentials)
        }
        Err(AppError::Busy) => {
            // Refused before the password was looked at: the attempt did not happen.
            for counter in counters {
                limits::give_back(pool, counter).await?;
            }
            Err(AppError::Busy)
        }
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests;
