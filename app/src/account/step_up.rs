//! Step-up from the browser's side. A form or link marked `data-step-up` (creating, re-pointing
//! or deleting a connection, a grant, a share link, the admin console's actions, the audit
//! export) is held back when the session has not proved its user in the last 10 minutes: the
//! page asks for a code, a passkey or the password (whatever the account has) in a dialog, then
//! sends the held form or follows the held link. The server checks on its own regardless
//! (`auth::ssr::step_up`). Without script, a refused form goes to `/confirm` (see `call::form`),
//! which asks the same and sends the browser back to the form, to send it again.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::{auth::ssr, call};
use leptos_meta::Title;

use crate::{
    auth::StepUpOptions, error::AppError, forms::error_from_query, ui::ErrorNotice, url::use_query,
};

#[server(endpoint = "step_up_ways")]
pub async fn step_up_ways() -> Result<StepUpOptions, AppError> {
    call::enrolling(async |cx| {
        let auth = ssr::auth_session().await?;
        // Asked before every marked form is sent: when fresh, nothing else is needed.
        if ssr::step_up::is_fresh(&auth).await? {
            return Ok(StepUpOptions {
                fresh: true,
                ..Default::default()
            });
        }
        ssr::step_up::options(cx.pool(), &cx.state.config, cx.user.id).await
    })
    .await
}

/// Proves the user with a code or the password; `next`, given on `/confirm`: where to go on once
/// confirmed (the form's page, to send the form again).
#[server(endpoint = "step_up")]
pub async fn step_up(secret: String, #[server(default)] next: String) -> Result<(), AppError> {
    let back = ssr::safe_next(&next).to_owned();
    call::form(crate::location::with_query("/confirm", "next", &back))
        .enrolling(async |cx| {
            let auth = ssr::auth_session().await?;
            ssr::step_up::with_secret(&auth, cx.pool(), &cx.state.config, &cx.user, &secret)
                .await?;
            if !next.is_empty() {
                call::redirect(&back);
            }
            Ok(())
        })
        .await
}

#[server(endpoint = "step_up_passkey_begin")]
pub async fn step_up_passkey_begin() -> Result<String, AppError> {
    call::enrolling(async |cx| {
        let auth = ssr::auth_session().await?;
        // The same ceremony as the sign-in's second step; its answer marks the session fresh.
        ssr::passkeys::begin_second_step(&auth, cx.pool(), &cx.state.config, cx.user.id).await
    })
    .await
}

#[server(endpoint = "step_up_passkey_finish")]
pub async fn step_up_passkey_finish(credential: String) -> Result<(), AppError> {
    call::enrolling(async |cx| {
        let auth = ssr::auth_session().await?;
        ssr::step_up::passkey_finish(&auth, cx.pool(), &cx.state.config, cx.user.id, &credential)
            .await
    })
    .await
}

/// Asks the signed-in user to confirm it is them; runs `done` once they have. `next`, on
/// `/confirm`: the page the server sends the browser back to.
#[component]
pub fn StepUpPrompt(
    #[prop(into)] done: Callback<()>,
    #[prop(optional, into)] next: Signal<Option<String>>,
) -> impl IntoView {
    let options = Resource::new(|| (), |_| step_up_ways());
    let confirm = ServerAction::<StepUp>::new();
    let problem = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(())) = confirm.value().get() {
            done.run(());
        }
    });
    let passkey = move |_| {
        problem.set(None);
        leptos::task::spawn_local(async move {
            let result = super::passkeys::with_passkey(
                false,
                step_up_passkey_begin(),
                |credential| async move { step_up_passkey_finish(credential).await.map(|_| None) },
            )
            .await;
            match result {
                Ok(_) => done.run(()),
                Err(text) => problem.set(Some(text)),
            }
        });
    };
    let here = move || {
        if let Some(next) = next.get_untracked() {
            return next;
        }
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let location = window.location();
            return format!(
                "{}{}",
                location.pathname().unwrap_or_default(),
                location.search().unwrap_or_default()
            );
        }
        "/".to_owned()
    };
    view! {
        <div class="step-up stack">
            <h2>"Confirm it is you"</h2>
            <p class="muted">"This action can hand over data or change who may do what, so it needs a fresh confirmation (good for 10 minutes)."</p>
            <ErrorNotice error=Signal::derive(move || confirm.value().get().and_then(Result::err))/>
            {move || problem.get().map(|text| view! { <p class="notice error" role="alert">{text}</p> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let ways = options.await.unwrap_or_default();
                    let typed = ways.code || ways.password;
                    view! {
                        {typed.then(|| view! {
                            <ActionForm action=confirm attr:class="stack">
                                <input type="hidden" name="next" value=move || next.get().unwrap_or_default()/>
                                {match ways.code {
                                    true => view! {
                                        <label for="step_up_secret">"Code from your authenticator app"</label>
                                        <input id="step_up_secret" name="secret" type="text" inputmode="numeric"
                                            autocomplete="one-time-code" maxlength="24" autofocus required/>
                                    }.into_any(),
                                    false => view! {
                                        <label for="step_up_secret">"Your password"</label>
                                        <input id="step_up_secret" name="secret" type="password"
                                            autocomplete="current-password" autofocus required/>
                                    }.into_any(),
                                }}
                                <button type="submit" class="primary" disabled=move || confirm.pending().get()>"Confirm"</button>
                            </ActionForm>
                        })}
                        {ways.passkey.then(|| view! {
                            <button type="button" class="button passkey" on:click=passkey>"Confirm with a passkey"</button>
                        })}
                        {ways.sso.into_iter().map(|(id, label)| {
                            let href = format!(
                                "{}?provider={}&next={}",
                                <super::sso::SsoStart as leptos::server_fn::ServerFn>::PATH,
                                crate::url::encode_path(&id),
                                crate::url::encode_path(&here())
                            );
                            view! { <a class="button sso" href=href rel="external">{format!("Sign in again with {label}")}</a> }
                        }).collect_view()}
                    }
                })}
            </Suspense>
        </div>
    }
}

/// Holds back `data-step-up` forms and links until the session is fresh (mounted once, in the
/// signed-in layout).
#[component]
pub fn StepUpGuard() -> impl IntoView {
    let open = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    let held = StoredValue::new_local(None::<web_sys::Element>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| hold::install(open, held));
    let done = move |_| {
        open.set(false);
        #[cfg(feature = "hydrate")]
        if let Some(element) = held.get_value() {
            hold::release(&element);
        }
    };
    view! {
        <Show when=move || open.get()>
            <div class="dialog-backdrop">
                <div class="card dialog" role="dialog" aria-modal="true" aria-label="Confirm it is you">
                    <StepUpPrompt done=done/>
                    <button type="button" class="link" on:click=move |_| open.set(false)>"Cancel"</button>
                </div>
            </div>
        </Show>
    }
}

/// `/confirm?next=…`: where a plain form (sent without script) goes when the server wants a
/// fresh proof first. Confirming goes back to `next`, the form's page with what was typed, to
/// send it again. Rendered in order (see the route), so it works without script.
#[component]
pub fn ConfirmPage() -> impl IntoView {
    let query = use_query();
    let next = Signal::derive(move || {
        let next = query.read().get("next").unwrap_or("/").to_owned();
        Some(next).filter(|n| n.starts_with('/') && !n.starts_with("//"))
    });
    view! {
        <Title text="Confirm it is you"/>
        <section class="card narrow" aria-label="Confirm it is you">
            <ErrorNotice error=error_from_query()/>
            <StepUpPrompt done=|_| () next=next/>
            <p><a href=move || next.get().unwrap_or_else(|| "/".into())>"Cancel"</a></p>
        </section>
    }
}

#[cfg(feature = "hydrate")]
mod hold {
    use leptos::prelude::*;
    use wasm_bindgen::{closure::Closure, JsCast};

    /// Marks an element let through once after the step-up.
    const PASSED: &str = "data-stepped-up";

    /// Listens (capturing, before any form's own handler) for submits of `data-step-up` forms
    /// and clicks on `data-step-up` links.
    pub fn install(
        open: RwSignal<bool>,
        held: StoredValue<Option<web_sys::Element>, LocalStorage>,
    ) {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        if document
            .document_element()
            .is_some_and(|e| e.has_attribute("data-step-up-guard"))
        {
            return;
        }
        if let Some(root) = document.document_element() {
            let _ = root.set_attribute("data-step-up-guard", "");
        }
        for kind in ["submit", "click"] {
            let listener = Closure::<dyn Fn(web_sys::Event)>::new(move |event: web_sys::Event| {
                let Some(target) = event
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                else {
                    return;
                };
                let element = match kind {
                    "submit" => Some(target),
                    _ => target.closest("a[data-step-up]").ok().flatten(),
                };
                let Some(element) = element.filter(|e| e.has_attribute("data-step-up")) else {
                    return;
                };
                if element.has_attribute(PASSED) {
                    let _ = element.remove_attribute(PASSED);
                    return;
                }
                event.prevent_default();
                event.stop_immediate_propagation();
                held.set_value(Some(element.clone()));
                leptos::task::spawn_local(async move {
                    match super::step_up_ways().await {
                        Ok(options) if options.fresh => release(&element),
                        _ => open.set(true),
                    }
                });
            });
            let _ = document.add_event_listener_with_callback_and_bool(
                kind,
                listener.as_ref().unchecked_ref(),
                true,
            );
            listener.forget();
        }
    }

    /// Lets the held form or link go.
    pub fn release(element: &web_sys::Element) {
        let _ = element.set_attribute(PASSED, "");
        if let Some(form) = element.dyn_ref::<web_sys::HtmlFormElement>() {
            let _ = form.request_submit();
        } else if let Some(link) = element.dyn_ref::<web_sys::HtmlElement>() {
            link.click();
        }
    }
}
