//! Passkeys (WebAuthn), by `webauthn-rs`: registered by a signed-in user, used alone to sign in
//! (a discoverable credential names its account), or as the second step after a password.
//! Every ceremony's challenge state waits in the server-side session, for one use.
//!
//! The relying party is `PUBLIC_URL`: its host is the RP id, and only its origin is accepted.
//! A passkey's signature counter is kept; one that goes backwards is a cloned authenticator and
//! is refused.

use serde_json::{json, Value};
use sqlx::PgPool;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
    WebauthnError,
};

use super::{AuthSession, SessionUser};
use crate::{
    audit::{
        ssr::{record, Event},
        Activity, Outcome,
    },
    auth::PasskeyInfo,
    config::Config,
    error::AppError,
};

/// Session keys: a ceremony under way.
const REGISTERING: &str = "crossview.passkey_registration";
const SIGNING_IN: &str = "crossview.passkey_sign_in";
const SECOND_STEP: &str = "crossview.passkey_second_step";

/// Longest passkey name.
pub const NAME_CHARS: usize = 64;

/// The relying party: `PUBLIC_URL`'s host and origin.
fn relying_party(config: &Config) -> Result<Webauthn, AppError> {
    let public = config
        .public_url
        .as_deref()
        .filter(|_| config.sign_in.passkey)
        .ok_or(AppError::SignInMethodOff)?;
    let origin = Url::parse(public).map_err(AppError::internal)?;
    let host = origin
        .host_str()
        .ok_or(AppError::SignInMethodOff)?
        .to_owned();
    WebauthnBuilder::new(&host, &origin)
        .and_then(|b| b.rp_name("Crossview").build())
        .map_err(AppError::internal)
}

/// What a failed ceremony means to the user; the cause is logged.
fn refused(err: WebauthnError) -> AppError {
    tracing::info!("passkey refused: {err}");
    AppError::PasskeyRefused
}

async fn take<T: serde::de::DeserializeOwned>(
    auth: &AuthSession,
    key: &str,
) -> Result<T, AppError> {
    let state: Option<T> = auth.session.remove(key).await.map_err(AppError::internal)?;
    state.ok_or(AppError::PasskeyRefused)
}

async fn keep(auth: &AuthSession, key: &str, value: impl serde::Serialize) -> Result<(), AppError> {
    auth.session
        .insert(key, value)
        .await
        .map_err(AppError::internal)
}

/// The account's WebAuthn user handle.
async fn handle(pool: &PgPool, user_id: i64) -> Result<Uuid, AppError> {
    let text: String = sqlx::query_scalar("select webauthn_id::text from users where id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await?;
    Uuid::parse_str(&text).map_err(AppError::internal)
}

/// The account's passkeys, as webauthn-rs keeps them.
async fn passkeys_of(pool: &PgPool, user_id: i64) -> Result<Vec<Passkey>, AppError> {
    let rows: Vec<(Value,)> = sqlx::query_as("select passkey from passkeys where user_id = $1")
        .bind(user_id)
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|(v,)| serde_json::from_value(v).map_err(AppError::internal))
        .collect()
}

pub async fn has_passkey(pool: &PgPool, user_id: i64) -> Result<bool, AppError> {
    Ok(
        sqlx::query_scalar("select exists (select 1 from passkeys where user_id = $1)")
            .bind(user_id)
            .fetch_one(pool)
            .await?,
    )
}

/// The account's passkeys, as its page lists them.
pub async fn list(pool: &PgPool, user_id: i64) -> Result<Vec<PasskeyInfo>, AppError> {
    let rows: Vec<(
        i64,
        String,
        time::OffsetDateTime,
        Option<time::OffsetDateTime>,
    )> = sqlx::query_as(
        "select id, name, created_at, last_used_at from passkeys where user_id = $1
             order by created_at",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, created, used)| PasskeyInfo {
            id,
            name,
            created_at: crate::format::rfc3339(created),
            last_used_at: used.map(crate::format::rfc3339),
        })
        .collect())
}

/// Starts registering a passkey for `user`: the options for `navigator.credentials.create`,
/// as JSON. The authenticator is asked to keep it (a discoverable credential), so it can sign
/// in without an address typed.
pub async fn begin_registration(
    auth: &AuthSession,
    pool: &PgPool,
    config: &Config,
    user: &SessionUser,
) -> Result<String, AppError> {
    let rp = relying_party(config)?;
    let existing = passkeys_of(pool, user.id).await?;
    let exclude = existing.iter().map(|p| p.cred_id().clone()).collect();
    let (options, state) = rp
        .start_passkey_registration(
            handle(pool, user.id).await?,
            &user.email,
            &user.email,
            Some(exclude),
        )
        .map_err(AppError::internal)?;
    keep(auth, REGISTERING, state).await?;
    let mut options = serde_json::to_value(options).map_err(AppError::internal)?;
    if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection") {
        selection["residentKey"] = json!("required");
        selection["requireResidentKey"] = json!(true);
    }
    Ok(options.to_string())
}

/// Finishes registering: checks the authenticator's answer against the ceremony's challenge
/// and this site's origin, and stores the passkey under `name`. Ends the account's other
/// sessions (as any change of factors does) and returns the account for this session to sign
/// in again.
pub async fn finish_registration(
    auth: &AuthSession,
    pool: &PgPool,
    config: &Config,
    user_id: i64,
    name: &str,
    credential: &str,
) -> Result<SessionUser, AppError> {
    let name = valid_name(name)?;
    let rp = relying_party(config)?;
    let state: PasskeyRegistration = take(auth, REGISTERING).await?;
    let credential: RegisterPublicKeyCredential =
        serde_json::from_str(credential).map_err(|_| AppError::PasskeyRefused)?;
    let passkey = rp
        .finish_passkey_registration(&credential, &state)
        .map_err(refused)?;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into passkeys (user_id, credential_id, name, passkey) values ($1, $2, $3, $4)",
    )
    .bind(user_id)
    .bind(AsRef::<[u8]>::as_ref(passkey.cred_id()))
    .bind(&name)
    .bind(serde_json::to_value(&passkey).map_err(AppError::internal)?)
    .execute(&mut *tx)
    .await
    .map_err(|err| match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => AppError::PasskeyRefused,
        _ => AppError::from(err),
    })?;
    let user = super::sessions::new_epoch(&mut tx, user_id).await?;
    let event = Event {
        actor_id: Some(user_id),
        detail: Some(json!({ "factor": "passkey", "name": name })),
        ..Event::new(Activity::FactorAdd, Outcome::Ok)
    };
    record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(user)
}

fn valid_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= NAME_CHARS
        && !name.chars().any(char::is_control);
    ok.then(|| name.to_owned())
        .ok_or(AppError::PasskeyNameInvalid)
}

/// Renames one of the user's passkeys.
pub async fn rename(pool: &PgPool, user_id: i64, id: i64, name: &str) -> Result<(), AppError> {
    let name = valid_name(name)?;
    let done = sqlx::query("update passkeys set name = $3 where id = $1 and user_id = $2")
        .bind(id)
        .bind(user_id)
        .bind(name)
        .execute(pool)
        .await?
        .rows_affected();
    (done == 1).then_some(()).ok_or(AppError::NotFound)
}

/// Removes one of the user's passkeys; ends the account's other sessions.
pub async fn remove(pool: &PgPool, user_id: i64, id: i64) -> Result<SessionUser, AppError> {
    let mut tx = pool.begin().await?;
    let name: String =
        sqlx::query_scalar("delete from passkeys where id = $1 and user_id = $2 returning name")
            .bind(id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(AppError::NotFound)?;
    let user = super::sessions::new_epoch(&mut tx, user_id).await?;
    let event = Event {
        actor_id: Some(user_id),
        detail: Some(json!({ "factor": "passkey", "name": name })),
        ..Event::new(Activity::FactorRemove, Outcome::Ok)
    };
    record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(user)
}

/// Starts a sign-in with any passkey this site's authenticators hold: options for
/// `navigator.credentials.get`, as JSON.
pub async fn begin_sign_in(auth: &AuthSession, config: &Config) -> Result<String, AppError> {
    let rp = relying_party(config)?;
    let (mut options, state) = rp
        .start_discoverable_authentication()
        .map_err(AppError::internal)?;
    // A button press, not the address field's autofill: the browser asks at once.
    options.mediation = None;
    keep(auth, SIGNING_IN, state).await?;
    serde_json::to_string(&options).map_err(AppError::internal)
}

/// Finishes a passkey sign-in: the account the passkey names, checked against its stored
/// public key and counter.
pub async fn finish_sign_in(
    auth: &AuthSession,
    pool: &PgPool,
    config: &Config,
    credential: &str,
) -> Result<SessionUser, AppError> {
    let rp = relying_party(config)?;
    let state: DiscoverableAuthentication = take(auth, SIGNING_IN).await?;
    let credential: PublicKeyCredential =
        serde_json::from_str(credential).map_err(|_| AppError::PasskeyRefused)?;
    let (handle, cred_id) = rp
        .identify_discoverable_authentication(&credential)
        .map_err(refused)?;
    let row: Option<(i64, Value)> = sqlx::query_as(
        "select p.id, p.passkey from passkeys p join users u on u.id = p.user_id
         where p.credential_id = $1 and u.webauthn_id::text = $2",
    )
    .bind(cred_id)
    .bind(handle.to_string())
    .fetch_optional(pool)
    .await?;
    let (id, passkey) = row.ok_or(AppError::PasskeyRefused)?;
    let mut passkey: Passkey = serde_json::from_value(passkey).map_err(AppError::internal)?;
    let result = rp
        .finish_discoverable_authentication_v2(&credential, state, &passkey)
        .map_err(refused)?;
    passkey.update_credential(&result);
    used(pool, id, &passkey).await
}

/// Starts the second step with one of the account's passkeys (`user`: who passed the first).
pub async fn begin_second_step(
    auth: &AuthSession,
    pool: &PgPool,
    config: &Config,
    user_id: i64,
) -> Result<String, AppError> {
    let rp = relying_party(config)?;
    let passkeys = passkeys_of(pool, user_id).await?;
    if passkeys.is_empty() {
        return Err(AppError::PasskeyRefused);
    }
    let (options, state) = rp
        .start_passkey_authentication(&passkeys)
        .map_err(AppError::internal)?;
    keep(auth, SECOND_STEP, (user_id, state)).await?;
    serde_json::to_string(&options).map_err(AppError::internal)
}

/// Finishes the second step: one of `user_id`'s own passkeys, checked.
pub async fn finish_second_step(
    auth: &AuthSession,
    pool: &PgPool,
    config: &Config,
    user_id: i64,
    credential: &str,
) -> Result<(), AppError> {
    let rp = relying_party(config)?;
    let (for_user, state): (i64, PasskeyAuthentication) = take(auth, SECOND_STEP).await?;
    if for_user != user_id {
        return Err(AppError::PasskeyRefused);
    }
    let credential: PublicKeyCredential =
        serde_json::from_str(credential).map_err(|_| AppError::PasskeyRefused)?;
    let result = rp
        .finish_passkey_authentication(&credential, &state)
        .map_err(refused)?;
    let row: (i64, Value) = sqlx::query_as(
        "select id, passkey from passkeys where credential_id = $1 and user_id = $2",
    )
    .bind(AsRef::<[u8]>::as_ref(result.cred_id()))
    .bind(user_id)
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::PasskeyRefused)?;
    let mut passkey: Passkey = serde_json::from_value(row.1).map_err(AppError::internal)?;
    passkey.update_credential(&result);
    used(pool, row.0, &passkey).await.map(drop)
}

/// Stores a passkey's new counter and when it was used; returns its account.
async fn used(pool: &PgPool, id: i64, passkey: &Passkey) -> Result<SessionUser, AppError> {
    let user_id: i64 = sqlx::query_scalar(
        "update passkeys set passkey = $2, last_used_at = now() where id = $1 returning user_id",
    )
    .bind(id)
    .bind(serde_json::to_value(passkey).map_err(AppError::internal)?)
    .fetch_one(pool)
    .await?;
    sqlx::query_as(
        "update users set last_sign_in_at = now() where id = $1 and not disabled
         returning id, email, is_admin, auth_epoch::text as epoch,
                unread_notices(id) as unread_notices",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::AccountDisabled)
}
