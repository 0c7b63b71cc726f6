//! Passkeys from the browser's side: sign in with one, use one as the second step, and the
//! account page's list (add, rename, remove). The browser's part of each ceremony is
//! `navigator.credentials.create`/`get`, with the options parsed and the answer serialized by
//! the browser's own WebAuthn JSON methods; the checks are `auth::ssr::passkeys`'.

use leptos::{prelude::*, server_fn::ServerFn};

#[cfg(feature = "ssr")]
use crate::{auth::ssr, call, notify::letters};
use crate::{
    auth::PasskeyInfo, error::AppError, format::minutes_utc, forms::section_error, ui::ErrorNotice,
};

#[cfg(feature = "ssr")]
const SECTION: &str = "/account?section=passkeys";

#[server(endpoint = "passkey_sign_in_begin")]
pub async fn passkey_sign_in_begin() -> Result<String, AppError> {
    call::anyone(async |state| {
        let auth = ssr::auth_session().await?;
        ssr::passkeys::begin_sign_in(&auth, &state.config).await
    })
    .await
}

/// Signs in with the passkey's account and goes on to `next`. Posted by the sign-in page's form
/// (`passkey.js` puts the signed answer in it); a refusal comes back as the page's `?error=`.
#[server(endpoint = "passkey_sign_in_finish")]
pub async fn passkey_sign_in_finish(credential: String, next: String) -> Result<(), AppError> {
    call::form("/sign-in")
        .keep("next", &next)
        .anyone(async |state| {
            let mut auth = ssr::auth_session().await?;
            let user =
                ssr::passkeys::finish_sign_in(&auth, &state.pool, &state.config, &credential)
                    .await?;
            ssr::factors::complete_sign_in(&mut auth, &state.pool, &user, "passkey", true).await?;
            super::arrived(&state, (user.id, &user.email), "a passkey").await;
            call::redirect(ssr::safe_next(&next));
            Ok(())
        })
        .await
}

#[server(endpoint = "passkey_step_begin")]
pub async fn passkey_step_begin() -> Result<String, AppError> {
    call::anyone(async |state| {
        let auth = ssr::auth_session().await?;
        ssr::factors::passkey_step_begin(&auth, &state.pool, &state.config).await
    })
    .await
}

/// The second step by passkey, posted as [`passkey_sign_in_finish`] is.
#[server(endpoint = "passkey_step_finish")]
pub async fn passkey_step_finish(credential: String, next: String) -> Result<(), AppError> {
    call::form("/sign-in/code")
        .keep("next", &next)
        .anyone(async |state| {
            let mut auth = ssr::auth_session().await?;
            let user = ssr::factors::passkey_step_finish(
                &mut auth,
                &state.pool,
                &state.config,
                &credential,
            )
            .await?;
            super::arrived(&state, (user.id, &user.email), "a password and a passkey").await;
            call::redirect(ssr::safe_next(&next));
            Ok(())
        })
        .await
}

#[server(endpoint = "passkeys_list")]
pub async fn passkeys_list() -> Result<Vec<PasskeyInfo>, AppError> {
    call::enrolling(async |cx| ssr::passkeys::list(cx.pool(), cx.user.id).await).await
}

/// Adding a passkey to the account needs a fresh proof that it is its owner (step-up).
#[server(endpoint = "passkey_add_begin")]
pub async fn passkey_add_begin() -> Result<String, AppError> {
    call::enrolling(async |cx| {
        let auth = ssr::auth_session().await?;
        ssr::step_up::require(&auth).await?;
        ssr::passkeys::begin_registration(&auth, cx.pool(), &cx.state.config, &cx.user).await
    })
    .await
}

#[server(endpoint = "passkey_add_finish")]
pub async fn passkey_add_finish(name: String, credential: String) -> Result<(), AppError> {
    call::enrolling(async |cx| {
        let mut auth = ssr::auth_session().await?;
        let user = ssr::passkeys::finish_registration(
            &auth,
            cx.pool(),
            &cx.state.config,
            cx.user.id,
            &name,
            &credential,
        )
        .await?;
        // The other sessions ended; this one goes on under a new id, having proved the factor.
        ssr::log_in(&mut auth, &user).await?;
        ssr::factors::mark_proved(&auth, Some("passkey")).await?;
        letters::factor(&cx.state, user.id, "A passkey", true).await;
        Ok(())
    })
    .await
}

#[server(endpoint = "passkey_rename")]
pub async fn passkey_rename(id: i64, name: String) -> Result<(), AppError> {
    call::form(SECTION)
        .enrolling(async |cx| {
            ssr::passkeys::rename(cx.pool(), cx.user.id, id, &name).await?;
            call::redirect("/account?passkeys=renamed#passkeys");
            Ok(())
        })
        .await
}

#[server(endpoint = "passkey_remove")]
pub async fn passkey_remove(id: i64) -> Result<(), AppError> {
    call::form(SECTION)
        .enrolling(async |cx| {
            let mut auth = ssr::auth_session().await?;
            ssr::step_up::require(&auth).await?;
            let user = ssr::passkeys::remove(cx.pool(), cx.user.id, id).await?;
            ssr::log_in(&mut auth, &user).await?;
            if !ssr::factors::has_second_factor(cx.pool(), user.id).await? {
                ssr::factors::mark_proved(&auth, None).await?;
            }
            letters::factor(&cx.state, user.id, "A passkey", false).await;
            call::redirect("/account?passkeys=removed#passkeys");
            Ok(())
        })
        .await
}

/// The browser's half of a ceremony: `create` (registration) or `get` (sign-in) with the
/// server's options (JSON), answering the credential as JSON.
#[cfg(feature = "hydrate")]
async fn ceremony(create: bool, options: &str) -> Result<String, String> {
    use js_sys::{Function, Object, Promise, Reflect, JSON};
    use wasm_bindgen::{JsCast, JsValue};

    let unsupported = || "This browser cannot use passkeys here.".to_owned();
    let failed =
        |_: JsValue| "The passkey was not used: the browser cancelled or refused it.".to_owned();
    let get = |target: &JsValue, name: &str| Reflect::get(target, &JsValue::from_str(name));
    let window = web_sys::window().ok_or_else(unsupported)?;
    let credential_type = get(&window, "PublicKeyCredential").map_err(|_| unsupported())?;
    let parser = match create {
        true => "parseCreationOptionsFromJSON",
        false => "parseRequestOptionsFromJSON",
    };
    let parser: Function = get(&credential_type, parser)
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(unsupported)?;
    let options = JSON::parse(options).map_err(|_| unsupported())?;
    let public_key = get(&options, "publicKey").map_err(|_| unsupported())?;
    let parsed = parser
        .call1(&credential_type, &public_key)
        .map_err(|_| unsupported())?;
    let request = Object::new();
    Reflect::set(&request, &JsValue::from_str("publicKey"), &parsed).map_err(|_| unsupported())?;
    let container = get(&window.navigator(), "credentials").map_err(|_| unsupported())?;
    let call: Function = get(&container, if create { "create" } else { "get" })
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(unsupported)?;
    let promise: Promise = call
        .call1(&container, &request)
        .map_err(failed)?
        .dyn_into()
        .map_err(failed)?;
    let credential = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(failed)?;
    let to_json: Function = get(&credential, "toJSON")
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(unsupported)?;
    let json = to_json.call0(&credential).map_err(failed)?;
    JSON::stringify(&json)
        .map(String::from)
        .map_err(|_| unsupported())
}

/// Runs a ceremony in the browser between `begin` and `finish`; `finish` answers where to go,
/// if anywhere. The server never sees anything but the options and the signed answer.
#[allow(unused_variables)]
pub(super) async fn with_passkey<F, Fut>(
    create: bool,
    begin: impl std::future::Future<Output = Result<String, AppError>>,
    finish: F,
) -> Result<Option<String>, String>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<String>, AppError>>,
{
    let options = begin.await.map_err(|e| e.to_string())?;
    #[cfg(feature = "hydrate")]
    {
        let credential = ceremony(create, &options).await?;
        return finish(credential).await.map_err(|e| e.to_string());
    }
    #[allow(unreachable_code)]
    Err("Passkeys need the page's script.".to_owned())
}

/// Sends the browser to `target` with a full load, so every part of the page sees the session.
fn go(target: Option<String>) {
    #[cfg(feature = "hydrate")]
    if let (Some(target), Some(window)) = (target.as_deref(), web_sys::window()) {
        let _ = window.location().assign(target);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = target;
}

/// "Use a passkey" on the sign-in page: the authenticator names the account.
#[component]
pub fn PasskeySignIn(next: String) -> impl IntoView {
    view! { <PasskeyForm next begin=PasskeySignInBegin::PATH finish=PasskeySignInFinish::PATH/> }
}

/// "Use a passkey" at the second step, instead of a code.
#[component]
pub fn PasskeyStep(next: String) -> impl IntoView {
    view! { <PasskeyForm next begin=PasskeyStepBegin::PATH finish=PasskeyStepFinish::PATH/> }
}

/// The browser's half of [`PasskeyForm`], on the pages served without the app's script.
pub const PASSKEY_SCRIPT: &str = include_str!("passkey.js");

/// These pages are served without the app's script (see `shell`), so the ceremony is run by
/// [`PASSKEY_SCRIPT`]: the form stays hidden until it runs (no script, no dead button).
#[component]
fn PasskeyForm(next: String, begin: &'static str, finish: &'static str) -> impl IntoView {
    view! {
        <form method="post" action=finish data-passkey-begin=begin hidden>
            <input type="hidden" name="next" value=next/>
            <input type="hidden" name="credential"/>
            <button type="submit" class="button passkey">"Use a passkey"</button>
            <p class="notice error" role="alert" hidden></p>
        </form>
    }
}

/// The account page's passkeys: the list, and adding one.
#[component]
pub fn PasskeysSection() -> impl IntoView {
    let list = Resource::new(|| (), |_| passkeys_list());
    let query = crate::url::use_query();
    let notice = move || match query.read().get("passkeys") {
        Some("added") => Some("Passkey added. Your other sessions have been signed out."),
        Some("removed") => Some("Passkey removed. Your other sessions have been signed out."),
        Some("renamed") => Some("Passkey renamed."),
        _ => None,
    };
    view! {
        <section class="card narrow" id="passkeys">
            <h2>"Passkeys"</h2>
            <p class="muted">"Sign in with your fingerprint, face or device PIN instead of a password, or use a passkey as the second step after it. A passkey stays on your device or in your password manager; Crossview keeps only its public key."</p>
            {move || notice().map(|text| view! { <p class="notice success" role="status">{text}</p> })}
            <ErrorNotice error=section_error(Some("passkeys"))/>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(keys) if keys.is_empty() => view! { <p class="muted">"No passkeys yet."</p> }.into_any(),
                        Ok(keys) => view! {
                            <ul class="passkeys">
                                {keys.into_iter().map(|key| view! { <PasskeyRow key/> }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <AddPasskey/>
        </section>
    }
}

#[component]
fn PasskeyRow(key: PasskeyInfo) -> impl IntoView {
    let used = key.last_used_at.as_deref().map_or_else(
        || "never used".to_owned(),
        |t| format!("last used {}", minutes_utc(t)),
    );
    let label = format!("Remove passkey {}", key.name);
    view! {
        <li class="passkey-row">
            <strong class="passkey-name">{key.name.clone()}</strong>
            <span class="muted">{format!(" · added {} · {used}", minutes_utc(&key.created_at))}</span>
            <details>
                <summary>"Rename"</summary>
                <form method="post" action=PasskeyRename::PATH class="inline">
                    <input type="hidden" name="id" value=key.id/>
                    <input name="name" aria-label="New name" maxlength="64" value=key.name.clone() required/>
                    <button type="submit">"Save"</button>
                </form>
            </details>
            <form method="post" action=PasskeyRemove::PATH class="inline" data-step-up="">
                <input type="hidden" name="id" value=key.id/>
                <button type="submit" class="danger" aria-label=label>"Remove"</button>
            </form>
        </li>
    }
}

#[component]
fn AddPasskey() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let run = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        problem.set(None);
        let name = name.get_untracked();
        leptos::task::spawn_local(async move {
            let result = with_passkey(true, passkey_add_begin(), move |credential| async move {
                passkey_add_finish(name, credential)
                    .await
                    .map(|_| Some("/account?passkeys=added#passkeys".to_owned()))
            })
            .await;
            busy.set(false);
            match result {
                Ok(target) => go(target),
                Err(text) => problem.set(Some(text)),
            }
        });
    };
    view! {
        {move || problem.get().map(|text| view! { <p class="notice error" role="alert">{text}</p> })}
        <form class="stack" data-step-up="" on:submit=run>
            <label for="passkey_name">"Name for a new passkey"</label>
            <input id="passkey_name" maxlength="64" placeholder="Work laptop" required
                bind:value=name/>
            <button type="submit" class="primary" disabled=move || busy.get()>
                {move || if busy.get() { "Waiting for your device…" } else { "Add a passkey" }}
            </button>
        </form>
    }
}
