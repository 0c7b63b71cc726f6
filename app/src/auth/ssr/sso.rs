//! Single sign-on by OpenID Connect: the Authorization Code flow with PKCE, `state` and `nonce`,
//! the provider found by discovery, its ID token checked by `openidconnect` (signature against
//! the provider's JWKS, issuer, audience, expiry, nonce). What the flow carries between the two
//! legs stays in the server-side session, never in the browser.
//!
//! Who the token names: an identity linked before signs in as its account. Otherwise a verified
//! address of an existing account is linked only after that account's password (a provider that
//! asserts somebody's address takes nothing over), and one in `allowed_domains` gets a new
//! account. Admin rights follow the provider's groups when it has `admin_groups`.

use std::collections::HashMap;

use openidconnect::{
    core::{
        CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
        CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
        CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
        CoreTokenIntrospectionResponse, CoreTokenType,
    },
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    StandardErrorResponse, StandardTokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::PgPool;

use super::{normal_email, AuthSession, SessionUser};
use crate::{
    audit::{
        ssr::{record, Event},
        Activity, Outcome,
    },
    config::{Config, ExposeSecret, SsoProvider},
    error::AppError,
    outbound::send,
};

/// Where every provider sends people back (`PUBLIC_URL` + this).
pub const CALLBACK_PATH: &str = "/sso/callback";

/// Session key: the flow under way (between leaving for the provider and coming back).
const FLOW: &str = "crossview.sso_flow";
/// Session key: an identity waiting for its account's password to be linked.
const LINK: &str = "crossview.sso_link";
/// How long either waits.
const WAIT_SECS: i64 = 600;

/// The password a single sign-on account has: none (no hash can ever match it).
pub const NO_PASSWORD: &str = "!sso";

/// Any claim besides the standard ones, by name (the groups claim's name is configured).
#[derive(Debug, Deserialize, Serialize)]
struct Extra {
    #[serde(flatten)]
    claims: HashMap<String, Value>,
}

impl AdditionalClaims for Extra {}

type TokenResponse = StandardTokenResponse<
    IdTokenFields<
        Extra,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// A client as discovery makes it: an authorization endpoint, maybe a token endpoint.
type OidcClient = openidconnect::Client<
    Extra,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A flow between its two legs.
#[derive(Serialize, Deserialize)]
struct Flow {
    provider: String,
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    at: i64,
}

/// Who the provider says signed in, its ID token checked.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Identity {
    pub provider: String,
    pub subject: String,
    /// Lower-cased; only when the provider says it is verified.
    pub email: Option<String>,
    pub groups: Vec<String>,
    /// The provider asked for a second factor (its `amr`/`acr` says so).
    pub mfa: bool,
}

/// An identity waiting for its account's password.
#[derive(Serialize, Deserialize)]
struct Link {
    identity: Identity,
    user: i64,
    next: String,
    at: i64,
}

/// What the callback comes to.
pub enum Arrival {
    /// Sign this account in.
    Account(SessionUser),
    /// An account has this address: its password links the identity (the page names it).
    LinkNeeded,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The configured provider `id`.
pub fn provider<'a>(config: &'a Config, id: &str) -> Result<&'a SsoProvider, AppError> {
    config
        .sso
        .iter()
        .find(|p| p.id == id)
        .filter(|_| config.sign_in.sso)
        .ok_or(AppError::SignInMethodOff)
}

/// Starts a sign-in with `provider`: remembers the flow in the session and returns the
/// provider's authorization URL to send the browser to.
pub async fn start(
    auth: &AuthSession,
    config: &Config,
    provider_id: &str,
    next: &str,
) -> Result<String, AppError> {
    let provider = provider(config, provider_id)?;
    let client = client(config, provider).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in &provider.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, state, nonce) = request.url();
    let flow = Flow {
        provider: provider.id.clone(),
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        next: super::safe_next(next).to_owned(),
        at: now(),
    };
    auth.session
        .insert(FLOW, flow)
        .await
        .map_err(AppError::internal)?;
    Ok(url.to_string())
}

/// The second leg: checks `state` against this session's flow, exchanges `code` (with the PKCE
/// verifier) for tokens, and checks the ID token. Returns the identity and where to go next.
pub async fn finish(
    auth: &AuthSession,
    config: &Config,
    code: &str,
    state: &str,
) -> Result<(Identity, String), AppError> {
    // The flow is used once, whatever comes of it.
    let flow: Option<Flow> = auth
        .session
        .remove(FLOW)
        .await
        .map_err(AppError::internal)?;
    let flow = flow
        .filter(|f| now().saturating_sub(f.at) < WAIT_SECS)
        .filter(|f| crate::token::digest(&f.state) == crate::token::digest(state))
        .ok_or(AppError::SsoExpired)?;
    let provider = provider(config, &flow.provider)?;
    let client = client(config, provider).await?;
    let exchange = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|err| unavailable(provider, err))?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier));
    let tokens = exchange.request_async(&send).await.map_err(|err| {
        tracing::warn!(provider = %provider.id, "the provider did not give tokens: {err}");
        AppError::SsoRejected
    })?;
    let id_token = openidconnect::TokenResponse::id_token(&tokens).ok_or_else(|| {
        tracing::warn!(provider = %provider.id, "the token response has no ID token");
        AppError::SsoRejected
    })?;
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &Nonce::new(flow.nonce))
        .map_err(|err| refused(provider, err))?;
    let email = match (claims.email(), claims.email_verified()) {
        (Some(email), Some(true)) => Some(normal_email(email.as_str())),
        _ => None,
    };
    let groups = match claims
        .additional_claims()
        .claims
        .get(&provider.groups_claim)
    {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|g| g.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    let amr = claims.auth_method_refs().into_iter().flatten();
    let mfa = amr
        .map(|m| m.as_str().to_lowercase())
        .any(|m| provider.mfa_amr.contains(&m))
        || claims
            .auth_context_ref()
            .is_some_and(|acr| provider.mfa_acr.iter().any(|a| a == acr.as_str()));
    let identity = Identity {
        provider: provider.id.clone(),
        subject: claims.subject().as_str().to_owned(),
        email,
        groups,
        mfa,
    };
    Ok((identity, flow.next))
}

/// Logs why a token was refused, and says it the way the user can act on.
fn refused(provider: &SsoProvider, err: ClaimsVerificationError) -> AppError {
    tracing::warn!(provider = %provider.id, "ID token refused: {err}");
    match err {
        ClaimsVerificationError::Expired(_) => AppError::SsoTokenExpired,
        _ => AppError::SsoRejected,
    }
}

fn unavailable(provider: &SsoProvider, err: impl std::fmt::Display) -> AppError {
    tracing::warn!(provider = %provider.id, "identity provider unavailable: {err}");
    AppError::SsoUnavailable
}

/// The provider's client, from its discovery document (fetched each time: a sign-in is rare,
/// and a rotated key or endpoint is then never stale).
async fn client(config: &Config, provider: &SsoProvider) -> Result<OidcClient, AppError> {
    let issuer = IssuerUrl::new(provider.issuer.clone()).map_err(AppError::internal)?;
    // Discovery checks that the document names this very issuer.
    let metadata = CoreProviderMetadata::discover_async(issuer, &send)
        .await
        .map_err(|err| unavailable(provider, err))?;
    let public = config.public_url.as_deref().unwrap_or_default();
    let redirect =
        RedirectUrl::new(format!("{public}{CALLBACK_PATH}")).map_err(AppError::internal)?;
    Ok(OidcClient::from_provider_metadata(
        metadata,
        ClientId::new(provider.client_id.clone()),
        Some(ClientSecret::new(
            provider.client_secret.expose_secret().to_owned(),
        )),
    )
    .set_redirect_uri(redirect))
}

/// What the identity comes to: its linked account, a new account, or a link to make.
pub async fn arrive(
    auth: &AuthSession,
    pool: &PgPool,
    config: &Config,
    identity: Identity,
    next: &str,
) -> Result<Arrival, AppError> {
    let provider = provider(config, &identity.provider)?;
    let linked: Option<(i64, bool)> = sqlx::query_as(
        "select u.id, u.disabled from sso_identities i join users u on u.id = i.user_id
         where i.provider = $1 and i.subject = $2",
    )
    .bind(&identity.provider)
    .bind(&identity.subject)
    .fetch_optional(pool)
    .await?;
    let user_id = match linked {
        Some((_, true)) => return Err(AppError::AccountDisabled),
        Some((id, false)) => id,
        None => {
            let email = identity.email.clone().ok_or(AppError::SsoEmailUnverified)?;
            let existing: Option<i64> =
                sqlx::query_scalar("select id from users where lower(email) = $1")
                    .bind(&email)
                    .fetch_optional(pool)
                    .await?;
            if let Some(user) = existing {
                let link = Link {
                    identity,
                    user,
                    next: next.to_owned(),
                    at: now(),
                };
                auth.session
                    .insert(LINK, link)
                    .await
                    .map_err(AppError::internal)?;
                return Ok(Arrival::LinkNeeded);
            }
            let domain = email.rsplit('@').next().unwrap_or_default();
            if !provider.allowed_domains.iter().any(|d| d == domain) {
                return Err(AppError::SsoDomainRefused);
            }
            create_account(pool, &identity, &email).await?
        }
    };
    let user = sync_account(pool, provider, &identity, user_id).await?;
    Ok(Arrival::Account(user))
}

/// A new account for a verified address in an allowed domain: no password, linked at once.
/// (`OIDC_ALLOWED_DOMAINS` is the provider's own sign-up rule: `ALLOW_SIGNUP` is about
/// passwords.)
async fn create_account(pool: &PgPool, identity: &Identity, email: &str) -> Result<i64, AppError> {
    super::validate_email(email)?;
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "insert into users (email, password_hash, last_sign_in_at) values ($1, $2, now())
         returning id",
    )
    .bind(email)
    .bind(NO_PASSWORD)
    .fetch_one(&mut *tx)
    .await
    .map_err(super::email_taken)?;
    insert_identity(&mut tx, identity, id, "created").await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert_identity(
    tx: &mut sqlx::PgConnection,
    identity: &Identity,
    user_id: i64,
    how: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "insert into sso_identities (provider, subject, user_id, email) values ($1, $2, $3, $4)",
    )
    .bind(&identity.provider)
    .bind(&identity.subject)
    .bind(user_id)
    .bind(identity.email.as_deref().unwrap_or_default())
    .execute(&mut *tx)
    .await?;
    let event = Event {
        actor_id: Some(user_id),
        detail: Some(json!({ "provider": identity.provider, "account": how })),
        ..Event::new(Activity::SsoLink, Outcome::Ok)
    };
    record(&mut *tx, event).await
}

/// The account as of this sign-in: admin rights follow the provider's groups when it is told
/// which groups administer (audited, and the account's other sessions end, as with any change
/// of rights).
async fn sync_account(
    pool: &PgPool,
    provider: &SsoProvider,
    identity: &Identity,
    user_id: i64,
) -> Result<SessionUser, AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "update sso_identities set last_used_at = now() where provider = $1 and subject = $2",
    )
    .bind(&identity.provider)
    .bind(&identity.subject)
    .execute(&mut *tx)
    .await?;
    let admin = match provider.admin_groups.is_empty() {
        true => None,
        false => Some(
            identity
                .groups
                .iter()
                .any(|g| provider.admin_groups.contains(g)),
        ),
    };
    let changed: Option<(String,)> = sqlx::query_as(
        "update users set is_admin = $2, auth_epoch = gen_random_uuid()
         where id = $1 and is_admin <> $2 returning email",
    )
    .bind(user_id)
    .bind(admin)
    .fetch_optional(&mut *tx)
    .await?;
    if let (Some((email,)), Some(admin)) = (changed, admin) {
        let action = match admin {
            true => Activity::AdminGrant,
            false => Activity::AdminRevoke,
        };
        let event = Event {
            actor_id: None,
            detail: Some(
                json!({ "user": user_id, "email": email, "by": format!("sso:{}", provider.id) }),
            ),
            ..Event::new(action, Outcome::Ok)
        };
        record(&mut *tx, event).await?;
    }
    let user: SessionUser = sqlx::query_as(
        "update users set last_sign_in_at = now() where id = $1 and not disabled
         returning id, email, is_admin, auth_epoch::text as epoch,
                unread_notices(id) as unread_notices",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::AccountDisabled)?;
    tx.commit().await?;
    Ok(user)
}

/// The identity waiting on this session to be linked: its provider's label and the account's
/// address, for the page.
pub async fn pending_link(
    auth: &AuthSession,
    pool: &PgPool,
    config: &Config,
) -> Result<(String, String), AppError> {
    let link = waiting_link(auth).await?;
    let provider = provider(config, &link.identity.provider)?;
    let email: String = sqlx::query_scalar("select email from users where id = $1")
        .bind(link.user)
        .fetch_optional(pool)
        .await?
        .ok_or(AppError::SsoExpired)?;
    Ok((provider.label.clone(), email))
}

async fn waiting_link(auth: &AuthSession) -> Result<Link, AppError> {
    let link: Option<Link> = auth.session.get(LINK).await.map_err(AppError::internal)?;
    link.filter(|l| now().saturating_sub(l.at) < WAIT_SECS)
        .ok_or(AppError::SsoExpired)
}

/// Links the waiting identity to its account once the account's password is right (under the
/// sign-in limits), and returns the account, the identity and where to go next.
pub async fn link(
    auth: &AuthSession,
    pool: &PgPool,
    config: &Config,
    password: &str,
    address: Option<&str>,
) -> Result<(SessionUser, Identity, String), AppError> {
    let link = waiting_link(auth).await?;
    let email: String = sqlx::query_scalar("select email from users where id = $1")
        .bind(link.user)
        .fetch_optional(pool)
        .await?
        .ok_or(AppError::SsoExpired)?;
    let device = super::device::of_request(config, &normal_email(&email));
    let user = super::sign_in(pool, &email, password, address, device.as_deref()).await?;
    let mut tx = pool.begin().await?;
    insert_identity(&mut tx, &link.identity, user.id, "linked").await?;
    tx.commit().await?;
    auth.session
        .remove::<Link>(LINK)
        .await
        .map_err(AppError::internal)?;
    let provider = provider(config, &link.identity.provider)?;
    let user = sync_account(pool, provider, &link.identity, user.id).await?;
    Ok((user, link.identity, link.next))
}
