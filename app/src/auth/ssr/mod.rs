//! Server side of accounts: the axum-login backend, password hashing, and the queries.

mod throttle;

use std::{fmt, net::SocketAddr};

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use axum::extract::ConnectInfo;
use axum_login::{AuthUser, AuthnBackend, UserId};
use http::request::Parts;
use sqlx::PgPool;

use super::User;
use crate::{config::Config, error::AppError};

pub type AuthSession = axum_login::AuthSession<Backend>;

/// The user as the session layer sees it: the public fields plus the session epoch.
#[derive(Clone)]
pub struct SessionUser {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
    /// The user's session epoch (a uuid as text), only ever compared for equality.
    epoch: String,
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
            r#"select id, email, is_admin, disabled, password_hash, auth_epoch::text as "epoch!"
               from users where lower(email) = lower($1)"#,
            creds.email.trim()
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
        }))
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<SessionUser>, AppError> {
        let user = sqlx::query_as!(
            SessionUser,
            r#"select id, email, is_admin, auth_epoch::text as "epoch!"
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

/// The signed-in user, or `Unauthorized`: the guard every server function starts with.
pub async fn require_user() -> Result<SessionUser, AppError> {
    auth_session().await?.user.ok_or(AppError::Unauthorized)
}

/// The client's address for rate limiting: the socket peer, or behind a trusted proxy the last
/// `X-Forwarded-For` hop (the one the proxy itself saw).
pub async fn client_address(trust_proxy: bool) -> Option<String> {
    let parts = leptos::prelude::use_context::<Parts>()?;
    if trust_proxy {
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        if let Some(last) = forwarded.and_then(|v| v.rsplit(',').next()) {
            return Some(last.trim().to_owned());
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
}

/// Only same-site paths are followed after sign-in, never another host.
pub fn safe_next(next: &str) -> &str {
    let same_site = next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\");
    if same_site {
        next
    } else {
        "/"
    }
}

pub const MIN_PASSWORD_CHARS: usize = 10;
const MAX_PASSWORD_BYTES: usize = 1024;

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

pub fn validate_password(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Err(AppError::PasswordTooShort)
    } else if password.len() > MAX_PASSWORD_BYTES {
        Err(AppError::PasswordTooLong)
    } else {
        Ok(())
    }
}

// Argon2 takes tens of milliseconds of CPU: keep it off the async worker threads.
async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)
}

async fn verify_password(password: String, hash: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash)?;
        Ok::<_, argon2::password_hash::Error>(
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
        )
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)
}

/// Creates an account. The first account of a deployment, and emails listed in `ADMIN_EMAILS`,
/// become admins; those two may sign up even when public sign-up is off.
pub async fn create_user(
    pool: &PgPool,
    config: &Config,
    email: &str,
    password: &str,
) -> Result<SessionUser, AppError> {
    let email = email.trim();
    validate_email(email)?;
    validate_password(password)?;
    let listed_admin = config.admin_emails.contains(&email.to_lowercase());
    let first = sqlx::query_scalar!(r#"select not exists (select 1 from users) as "first!""#)
        .fetch_one(pool)
        .await?;
    if !config.allow_signup && !listed_admin && !first {
        return Err(AppError::SignupClosed);
    }
    let hash = hash_password(password.to_owned()).await?;
    let user = sqlx::query_as!(
        SessionUser,
        r#"insert into users (email, password_hash, is_admin)
           values ($1, $2, $3 or not exists (select 1 from users))
           returning id, email, is_admin, auth_epoch::text as "epoch!""#,
        email,
        hash,
        listed_admin
    )
    .fetch_one(pool)
    .await
    .map_err(|err| match &err {
        sqlx::Error::Database(db) if db.constraint() == Some("users_email_key") => {
            AppError::EmailTaken
        }
        _ => AppError::from(err),
    })?;
    Ok(user)
}

/// Checks a password under the per-email and per-address attempt limits.
pub async fn sign_in(
    pool: &PgPool,
    email: &str,
    password: &str,
    address: Option<&str>,
) -> Result<SessionUser, AppError> {
    let email = email.trim();
    if throttle::is_limited(pool, email, address).await? {
        return Err(AppError::RateLimited);
    }
    let creds = Credentials {
        email: email.to_owned(),
        password: password.to_owned(),
    };
    match Backend::new(pool.clone()).authenticate(creds).await? {
        Some(user) => {
            throttle::forget(pool, email).await?;
            Ok(user)
        }
        None => {
            throttle::record_failure(pool, email, address).await?;
            Err(AppError::BadCredentials)
        }
    }
}

/// Replaces the password and the session epoch, which ends the user's other sessions.
pub async fn change_password(
    pool: &PgPool,
    user_id: i64,
    current: &str,
    new: &str,
    confirm: &str,
) -> Result<SessionUser, AppError> {
    validate_password(new)?;
    if new != confirm {
        return Err(AppError::PasswordMismatch);
    }
    let stored = sqlx::query_scalar!(
        "select password_hash from users where id = $1 and not disabled",
        user_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::Unauthorized)?;
    if !verify_password(current.to_owned(), stored).await? {
        return Err(AppError::WrongCurrentPassword);
    }
    let hash = hash_password(new.to_owned()).await?;
    let user = sqlx::query_as!(
        SessionUser,
        r#"update users set password_hash = $2, auth_epoch = gen_random_uuid() where id = $1
           returning id, email, is_admin, auth_epoch::text as "epoch!""#,
        user_id,
        hash
    )
    .fetch_one(pool)
    .await?;
    Ok(user)
}

#[cfg(test)]
mod tests;
