//! Server side of accounts: the axum-login backend, password hashing, and the queries.

mod hashing;
mod sessions;

pub mod device;
pub mod factors;
pub mod passkeys;
mod proof;
pub mod reset;
pub mod sso;
pub mod step_up;
pub use sessions::{
    describe_browser, end, end_others, of_user, one_read_per_request, Sessions, AUTH_DATA_KEY,
    IDLE_DAYS,
};

use std::{fmt, net::SocketAddr};

use axum::extract::ConnectInfo;
use axum_login::{AuthUser, AuthnBackend, UserId};
use http::request::Parts;
use serde_json::json;
use sqlx::{PgExecutor, PgPool};

use super::User;
use crate::{
    audit::{
        ssr::{count_junk, record, Event},
        Activity, Outcome,
    },
    config::{Config, ExposeSecret},
    error::AppError,
    limits, token,
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

/// The client's address for rate limiting, for the current server function.
pub async fn client_address(config: &Config) -> Option<String> {
    let parts = leptos::prelude::use_context::<Parts>()?;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0);
    client_address_of(config, &parts.headers, peer)
}

/// The client's address: the socket peer, or behind `hops` trusted proxies (`TRUST_PROXY`,
/// `TRUSTED_PROXY_HOPS`) the address the outermost of them saw.
pub fn client_address_of(
    config: &Config,
    headers: &http::HeaderMap,
    peer: Option<SocketAddr>,
) -> Option<String> {
    if config.trust_proxy {
        let lines = headers.get_all("x-forwarded-for").iter();
        let lines = lines.filter_map(|v| v.to_str().ok());
        if let Some(client) = forwarded_client(lines, config.trusted_proxy_hops) {
            return Some(counted_as(&client));
        }
    }
    peer.map(|peer| counted_as(&peer.ip().to_string()))
}

/// An address as limits count it: an IPv6 client by its /64 (one subscriber's whole network, as
/// providers hand them out: a client must not get 2^64 fresh counters), an IPv4-mapped one as
/// its IPv4 address, anything else as given.
pub fn counted_as(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{}/64", std::net::Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
        Ok(ip) => ip.to_string(),
        Err(_) => address.to_owned(),
    }
}

/// The client in `X-Forwarded-For`, read from the right across every line of the header: each
/// trusted proxy appends the address it saw, so the `hops`-th entry from the right is the one
/// the outermost trusted proxy saw. Entries further left are whatever the client claimed.
pub fn forwarded_client<'a>(lines: impl Iterator<Item = &'a str>, hops: usize) -> Option<String> {
    let entries: Vec<&str> = lines
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let client = entries.len().checked_sub(hops.max(1))?;
    // What a proxy reports is an address; anything longer is cut, so that no header can make a
    // counter's key (a row in `attempts`) as long as it likes.
    Some(entries[client].chars().take(64).collect())
}

/// Where sign-in may send the browser: a same-site path only. One leading `/`, then neither `/`
/// nor `\` (browsers read both as the start of another host), and nothing but visible ASCII: no
/// whitespace or control character anywhere (a `Location` header cannot carry them; the pages'
/// own links are percent-encoded). Anything else goes to `/`.
pub fn safe_next(next: &str) -> &str {
    let same_site = next
        .strip_prefix('/')
        .is_some_and(|rest| !rest.starts_with(['/', '\\']))
        && next.bytes().all(|b| b.is_ascii_graphic());
    if same_site {
        next
    } else {
        "/"
    }
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
pub(super) fn email_taken(err: sqlx::Error) -> AppError {
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

#[cfg(test)]
mod tests;
