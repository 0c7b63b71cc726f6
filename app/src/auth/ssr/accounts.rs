//! Making accounts and changing them: sign-up (and the one bootstrap administrator), and what
//! an administrator or the operator changes of an account.

use serde_json::json;
use sqlx::{PgExecutor, PgPool};

use super::{hash_password, validate_email, validate_password, SessionUser};
use crate::{
    audit::{
        ssr::{record, Event},
        Activity, Outcome,
    },
    config::{Config, ExposeSecret},
    error::AppError,
    token,
};

const SIGN_UP_LOCK: &str = "select pg_advisory_xact_lock(hashtext('crossview.sign_up'))";

/// Creates an account. Nobody becomes an administrator by signing up, except with the one-time
/// `BOOTSTRAP_TOKEN` from the operator's environment while the deployment has no administrator
/// yet (decided under one lock: of ten simultaneous sign-ups with it exactly one is); that is
/// also the only sign-up allowed while public sign-up is off. Other administrators are made by
/// an administrator, or by the operator (`server admin grant`). An address proves nothing.
pub async fn create_user(
    pool: &PgPool,
    config: &Config,
    email: &str,
    password: &str,
    bootstrap: Option<&str>,
) -> Result<SessionUser, AppError> {
    let email = email.trim();
    validate_email(email)?;
    validate_password(password, email)?;
    let bootstrap = match bootstrap.map(str::trim).filter(|t| !t.is_empty()) {
        None => false,
        Some(given) => match &config.bootstrap_token {
            // Compared as digests: the time taken says nothing about the token.
            Some(expected) if token::digest(expected.expose_secret()) == token::digest(given) => {
                true
            }
            _ => return Err(AppError::BootstrapRefused),
        },
    };
    if !config.allow_signup && !bootstrap {
        return Err(AppError::SignupClosed);
    }
    let hash = hash_password(password.to_owned()).await?;
    let mut tx = pool.begin().await?;
    sqlx::query(SIGN_UP_LOCK).execute(&mut *tx).await?;
    // Used once: a deployment with an administrator (enabled or not) takes the token no more.
    if bootstrap && has_admin(&mut *tx).await? {
        return Err(AppError::BootstrapRefused);
    }
    let user = sqlx::query_as!(
        SessionUser,
        r#"insert into users (email, password_hash, is_admin, last_sign_in_at)
           values ($1, $2, $3, now())
           returning id, email, is_admin, auth_epoch::text as "epoch!",
                     0::int8 as "unread_notices!""#,
        email,
        hash,
        bootstrap
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(email_taken)?;
    tx.commit().await?;
    if bootstrap {
        tracing::warn!(
            user = user.id,
            "the first administrator signed up with BOOTSTRAP_TOKEN: remove it from the environment"
        );
    }
    Ok(user)
}

/// A new account's address that another account has: `EmailTaken`.
pub(in crate::auth) fn email_taken(err: sqlx::Error) -> AppError {
    match &err {
        sqlx::Error::Database(db) if db.constraint() == Some("users_email_key") => {
            AppError::EmailTaken
        }
        _ => AppError::from(err),
    }
}

/// Whether any account administers the deployment (disabled ones too).
async fn has_admin<'c>(db: impl PgExecutor<'c>) -> Result<bool, AppError> {
    Ok(
        sqlx::query_scalar("select exists (select 1 from users where is_admin)")
            .fetch_one(db)
            .await?,
    )
}

/// A change an administrator (or the operator) makes to an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Make the account an administrator, or an ordinary account again.
    Admin(bool),
    /// Disable the account (its sessions end, its connections and links stop), or enable it.
    Disabled(bool),
}

/// Which account: by id (the admin pages) or by email (the operator's command line).
#[derive(Clone, Copy, Debug)]
pub enum Account<'a> {
    Id(i64),
    Email(&'a str),
}

impl Account<'_> {
    /// The id or the (trimmed) email, as query parameters: one of them is `None`.
    pub fn parts(&self) -> (Option<i64>, Option<&str>) {
        match *self {
            Account::Id(id) => (Some(id), None),
            Account::Email(email) => (None, Some(email.trim())),
        }
    }
}

/// Applies `change` to an account, audited as done by `actor` (an admin's id; `None` is the
/// operator). The last active administrator can be neither demoted nor disabled: a deployment
/// without one could only be repaired from the command line. Either way the account gets a new
/// session epoch, which ends its sessions: rights change only with a fresh sign-in (and so a
/// fresh session id), and a disabled account is signed out everywhere at once.
pub async fn change_user(
    pool: &PgPool,
    actor: Option<i64>,
    account: Account<'_>,
    change: Change,
) -> Result<i64, AppError> {
    let (id, email) = account.parts();
    let (admin, disabled, action) = match change {
        Change::Admin(true) => (Some(true), None, Activity::AdminGrant),
        Change::Admin(false) => (Some(false), None, Activity::AdminRevoke),
        Change::Disabled(true) => (None, Some(true), Activity::UserDisable),
        Change::Disabled(false) => (None, Some(false), Activity::UserEnable),
    };
    let mut tx = pool.begin().await?;
    // The same lock as sign-up: two admins removing each other cannot leave none.
    sqlx::query(SIGN_UP_LOCK).execute(&mut *tx).await?;
    let user = sqlx::query!(
        "update users set is_admin = coalesce($3, is_admin), disabled = coalesce($4, disabled),
                          auth_epoch = gen_random_uuid()
         where id = $1 or lower(email) = lower($2) returning id, email",
        id,
        email,
        admin,
        disabled
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let admins = sqlx::query_scalar!(
        r#"select count(*) as "n!" from users where is_admin and not disabled"#
    )
    .fetch_one(&mut *tx)
    .await?;
    if admins == 0 {
        return Err(AppError::LastAdmin);
    }
    let by = actor.map_or("operator", |_| "admin");
    let event = Event {
        actor_id: actor,
        detail: Some(json!({ "user": user.id, "email": user.email, "by": by })),
        ..Event::new(action, Outcome::Ok)
    };
    // The change and its audit entry are committed together, or neither is.
    record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(user.id)
}
