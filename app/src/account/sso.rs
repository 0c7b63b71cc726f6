//! Single sign-on from the browser's side: the sign-in page's provider buttons, the two legs of
//! the OpenID flow (plain GETs: the provider sends the browser back with a redirect), and the
//! page that links an identity to an existing account with its password. The protocol lives in
//! `auth::ssr::sso`.

use leptos::{prelude::*, server_fn::ServerFn};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{auth::ssr, call};
use crate::{error::AppError, forms::error_from_query, ui::ErrorNotice, url::encode_path};

/// What the sign-in page offers (`SIGN_IN_METHODS`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOptions {
    pub password: bool,
    pub passkey: bool,
    /// Each provider's id and label.
    pub providers: Vec<(String, String)>,
}

#[server(endpoint = "sign_in_ways")]
pub async fn sign_in_ways() -> Result<SignInOptions, AppError> {
    call::anyone(async |state| {
        let config = &state.config;
        Ok(SignInOptions {
            password: config.sign_in.password,
            passkey: config.sign_in.passkey,
            providers: match config.sign_in.sso {
                true => config
                    .sso
                    .iter()
                    .map(|p| (p.id.clone(), p.label.clone()))
                    .collect(),
                false => Vec::new(),
            },
        })
    })
    .await
}

/// The first leg: off to the provider.
#[server(prefix = "/sso", endpoint = "start", input = leptos::server_fn::codec::GetUrl)]
pub async fn sso_start(provider: String, #[server(default)] next: String) -> Result<(), AppError> {
    call::form("/sign-in")
        .keep("next", &next)
        .anyone(async |state| {
            let auth = ssr::auth_session().await?;
            let url = ssr::sso::start(&auth, &state.config, &provider, &next).await?;
            call::redirect(&url);
            Ok(())
        })
        .await
}

/// The second leg: the provider sends the browser back here with a code (or an error).
#[server(prefix = "/sso", endpoint = "callback", input = leptos::server_fn::codec::GetUrl)]
pub async fn sso_callback(
    #[server(default)] code: String,
    #[server(default)] state: String,
    #[server(default)] error: String,
) -> Result<(), AppError> {
    call::form("/sign-in")
        .anyone(async |app| {
            if !error.is_empty() || code.is_empty() {
                tracing::info!(error = %error.chars().take(64).collect::<String>(), "the provider did not sign the user in");
                return Err(AppError::SsoCancelled);
            }
            let mut auth = ssr::auth_session().await?;
            let (identity, next) = ssr::sso::finish(&auth, &app.config, &code, &state).await?;
            match ssr::sso::arrive(&auth, &app.pool, &app.config, identity.clone(), &next).await? {
                ssr::sso::Arrival::LinkNeeded => call::redirect("/sign-in/link"),
                ssr::sso::Arrival::Account(user) => {
                    finish_sign_in(&app, &mut auth, &user, &identity, &next).await?
                }
            }
            Ok(())
        })
        .await
}

/// Signs the account in after its identity was checked: at once when the provider proved a
/// second factor or the account has none, else through the second step.
#[cfg(feature = "ssr")]
async fn finish_sign_in(
    app: &crate::state::AppState,
    auth: &mut ssr::AuthSession,
    user: &ssr::SessionUser,
    identity: &ssr::sso::Identity,
    next: &str,
) -> Result<(), AppError> {
    let first = format!("sso:{}", identity.provider);
    if ssr::factors::after_first_step(auth, &app.pool, user, &first, identity.mfa).await? {
        let next = encode_path(ssr::safe_next(next));
        call::redirect(&format!("/sign-in/code?next={next}"));
        return Ok(());
    }
    super::arrived(app, (user.id, &user.email), "single sign-on").await;
    call::redirect(ssr::safe_next(next));
    Ok(())
}

/// The identity waiting to be linked: the provider's label and the account's address.
#[server(endpoint = "sso_link_info")]
pub async fn sso_link_info() -> Result<(String, String), AppError> {
    call::anyone(async |state| {
        let auth = ssr::auth_session().await?;
        ssr::sso::pending_link(&auth, &state.pool, &state.config).await
    })
    .await
}

/// Links the waiting identity once the account's password is right, and signs in.
#[server(endpoint = "sso_link")]
pub async fn sso_link(password: String) -> Result<(), AppError> {
    call::form("/sign-in/link")
        .anyone(async |state| {
            let mut auth = ssr::auth_session().await?;
            let address = ssr::client_address(&state.config).await;
            let (user, identity, next) = ssr::sso::link(
                &auth,
                &state.pool,
                &state.config,
                &password,
                address.as_deref(),
            )
            .await?;
            finish_sign_in(&state, &mut auth, &user, &identity, &next).await
        })
        .await
}

/// "Sign in with …", one link per provider (plain links: the flow starts with a GET).
#[component]
pub fn ProviderButtons(providers: Vec<(String, String)>, next: String) -> impl IntoView {
    let next = encode_path(&next);
    providers
        .into_iter()
        .map(|(id, label)| {
            let href = format!(
                "{}?provider={}&next={next}",
                SsoStart::PATH,
                encode_path(&id)
            );
            view! { <a class="button sso" href=href rel="external">{format!("Sign in with {label}")}</a> }
        })
        .collect_view()
}

/// Where an identity comes whose address has an account already: its password, once.
#[component]
pub fn LinkAccountPage() -> impl IntoView {
    let info = Resource::new_blocking(|| (), |_| sso_link_info());
    view! {
        <super::AuthCard title="Link your sign-in">
            <ErrorNotice error=error_from_query()/>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Err(err) => view! {
                            <ErrorNotice error=Some(err)/>
                            <p><a href="/sign-in" rel="external">"Back to sign-in"</a></p>
                        }.into_any(),
                        Ok((label, email)) => view! {
                            <p>{format!("An account for {email} exists already. Enter its password once to sign in with {label} from now on.")}</p>
                            <form method="post" action=SsoLink::PATH class="stack">
                                <input type="hidden" autocomplete="username" value=email.clone()/>
                                <label for="password">"Password"</label>
                                <input id="password" name="password" type="password" autocomplete="current-password" autofocus required/>
                                <button type="submit" class="primary">"Link and sign in"</button>
                            </form>
                            <p class="muted"><a href="/sign-in" rel="external">"Cancel"</a></p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </super::AuthCard>
    }
}
