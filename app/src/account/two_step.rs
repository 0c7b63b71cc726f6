//! Two-step sign-in: the sign-in's second step (a code from an authenticator app, or a recovery
//! code), and the account page's section that sets an app up, renews the recovery codes and
//! turns it off. The factors themselves live in `auth::ssr::factors`.

use leptos::{prelude::*, server_fn::ServerFn};

#[cfg(feature = "ssr")]
use crate::{auth::ssr, call, notify::letters};
use crate::{
    auth::{AuthenticatorSetup, TwoStep},
    error::AppError,
    forms::{error_from_query, section_error},
    ui::ErrorNotice,
    url::use_query,
};

/// Where this section's plain forms come back to with an error.
#[cfg(feature = "ssr")]
const SECTION: &str = "/account?section=two-step";

/// The second step of a sign-in whose password was right.
#[server(endpoint = "sign_in_code")]
pub async fn sign_in_code(code: String, next: String) -> Result<(), AppError> {
    call::form("/sign-in/code")
        .keep("next", &next)
        .anyone(async |state| {
            let mut auth = ssr::auth_session().await?;
            let proof =
                ssr::factors::second_step(&mut auth, &state.pool, &state.config, &code).await?;
            if let Some(user) = auth.user.clone() {
                let method = match proof {
                    ssr::factors::Proof::App => "a password and an authenticator code",
                    _ => "a password and a recovery code",
                };
                super::arrived(&state, (user.id, &user.email), method).await;
            }
            match proof {
                // Says how many remain, where new ones are made.
                ssr::factors::Proof::RecoveryCode { left } => {
                    call::redirect(&format!("/account?recovery_left={left}#two-step"))
                }
                ssr::factors::Proof::App => call::redirect(ssr::safe_next(&next)),
            }
            Ok(())
        })
        .await
}

/// The second factors of the account waiting at the second step: (an app, passkeys).
#[server(endpoint = "second_step_factors")]
pub async fn second_step_factors() -> Result<(bool, bool), AppError> {
    call::anyone(async |state| {
        let auth = ssr::auth_session().await?;
        ssr::factors::pending_factors(&auth, &state.pool).await
    })
    .await
}

#[server(endpoint = "two_step_status")]
pub async fn two_step_status() -> Result<TwoStep, AppError> {
    call::enrolling(async |cx| ssr::authenticator::status(cx.pool(), cx.user.id).await).await
}

/// The authenticator app being set up, if a setup was started.
#[server(endpoint = "two_step_setup")]
pub async fn two_step_setup() -> Result<Option<AuthenticatorSetup>, AppError> {
    call::enrolling(async |cx| ssr::authenticator::setup(cx.pool(), &cx.user).await).await
}

#[server(endpoint = "two_step_begin")]
pub async fn two_step_begin() -> Result<(), AppError> {
    call::form(SECTION)
        .enrolling(async |cx| {
            ssr::authenticator::begin(cx.pool(), cx.user.id).await?;
            call::redirect("/account#two-step");
            Ok(())
        })
        .await
}

/// Turns the app on with a first code; answers the recovery codes, shown this once.
#[server(endpoint = "two_step_confirm")]
pub async fn two_step_confirm(
    #[server(default)] current_password: String,
    code: String,
) -> Result<Vec<String>, AppError> {
    call::enrolling(async |cx| {
        let mut auth = ssr::auth_session().await?;
        let (user, codes) =
            ssr::authenticator::confirm(&auth, cx.pool(), &cx.user, &current_password, &code)
                .await?;
        // The other sessions ended with the new epoch; this one goes on, under a new id, as a
        // session that has proved the factor it just set up.
        ssr::log_in(&mut auth, &user).await?;
        ssr::factors::mark_proved(&auth, Some("password+totp")).await?;
        letters::two_step(&cx.state, user.id, true).await;
        Ok(codes)
    })
    .await
}

#[server(endpoint = "recovery_codes_renew")]
pub async fn recovery_codes_renew(
    #[server(default)] current_password: String,
) -> Result<Vec<String>, AppError> {
    call::enrolling(async |cx| {
        let auth = ssr::auth_session().await?;
        ssr::authenticator::renew_recovery_codes(&auth, cx.pool(), cx.user.id, &current_password)
            .await
    })
    .await
}

#[server(endpoint = "two_step_remove")]
pub async fn two_step_remove(#[server(default)] current_password: String) -> Result<(), AppError> {
    call::form(SECTION)
        .enrolling(async |cx| {
            let mut auth = ssr::auth_session().await?;
            let user =
                ssr::authenticator::remove(&auth, cx.pool(), cx.user.id, &current_password).await?;
            ssr::log_in(&mut auth, &user).await?;
            ssr::factors::mark_proved(&auth, None).await?;
            letters::two_step(&cx.state, user.id, false).await;
            call::redirect("/account?two_step=off#two-step");
            Ok(())
        })
        .await
}

/// Where a sign-in goes after a right password, when the account has a second factor.
#[component]
pub fn SecondStepPage() -> impl IntoView {
    let query = use_query();
    let next = move || query.read().get("next").unwrap_or_default().to_owned();
    let factors = Resource::new_blocking(|| (), |_| second_step_factors());
    view! {
        <super::AuthCard title="Two-step sign-in">
            <ErrorNotice error=error_from_query()/>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    // Without a step under way, the code form says so when it is sent.
                    let (app, passkey) = factors.await.unwrap_or((true, false));
                    view! {
                        {passkey.then(|| view! { <super::passkeys::PasskeyStep next=next()/> })}
                        {(app || !passkey).then(|| view! {
                            <form method="post" action=SignInCode::PATH class="stack">
                                <input type="hidden" name="next" value=next/>
                                <label for="code">"Code from your authenticator app"</label>
                                <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code"
                                    maxlength="24" aria-describedby="code-hint" autofocus required/>
                                <small id="code-hint" class="muted">"The 6 digits your app shows for Crossview. Lost your phone? Enter one of your recovery codes instead."</small>
                                <button type="submit" class="primary">"Continue"</button>
                            </form>
                        })}
                    }
                })}
            </Suspense>
            <p class="muted"><a href="/sign-in" rel="external">"Start over"</a></p>
        </super::AuthCard>
    }
}

/// The account page's two-step section.
#[component]
pub fn TwoStepSection() -> impl IntoView {
    let query = use_query();
    let status = Resource::new(|| (), |_| two_step_status());
    let notice = move || {
        let query = query.read();
        if query.get("second_factor") == Some("required") {
            Some("This deployment asks for a second factor before its admin pages (or, if it says so, any page) work: set up an authenticator app here.".to_owned())
        } else if let Some(left) = query.get("recovery_left") {
            Some(format!("You signed in with a recovery code; it works no more. Recovery codes left: {left}. Make new ones below if you are running low."))
        } else if query.get("two_step") == Some("saved") {
            Some("Two-step sign-in is on: keep those recovery codes safe.".to_owned())
        } else if query.get("two_step") == Some("off") {
            Some("Two-step sign-in is off. Your other sessions have been signed out.".to_owned())
        } else {
            None
        }
    };
    view! {
        <section class="card narrow" id="two-step">
            <h2>"Two-step sign-in"</h2>
            {move || notice().map(|text| view! { <p class="notice" role="status">{text}</p> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(s) if s.on => view! { <TwoStepOn left=s.recovery_codes_left password=s.password/> }.into_any(),
                        Ok(s) if s.setting_up => view! { <TwoStepSetupForm password=s.password/> }.into_any(),
                        Ok(_) => view! { <TwoStepOff/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TwoStepOff() -> impl IntoView {
    view! {
        <p class="muted">"Sign-in asks only for your password. Add an authenticator app (1Password, Google Authenticator, Microsoft Authenticator, Authy…) so that a password alone is not enough."</p>
        <ErrorNotice error=section_error(Some("two-step"))/>
        <form method="post" action=TwoStepBegin::PATH class="stack">
            <button type="submit" class="primary">"Set up an authenticator app"</button>
        </form>
    }
}

/// The password that confirms a change; an account without one (single sign-on) is confirmed
/// by a recent sign-in instead.
#[component]
fn CurrentPassword(
    password: bool,
    #[prop(default = "two_step_password")] id: &'static str,
) -> impl IntoView {
    password.then(|| view! {
        <label for=id>"Current password"</label>
        <input id=id name="current_password" type="password" autocomplete="current-password" required/>
    })
}

/// Recovery codes, shown once.
#[component]
fn RecoveryCodes(codes: Vec<String>) -> impl IntoView {
    view! {
        <div class="notice success recovery-codes" role="status">
            <p>"Your recovery codes, shown only now. Keep them somewhere safe (a password manager, or printed): each signs you in once if you lose your phone."</p>
            <ul class="codes">{codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}</ul>
            <p><a href="/account?two_step=saved#two-step" rel="external">"I have saved them"</a></p>
        </div>
    }
}

#[component]
fn TwoStepSetupForm(password: bool) -> impl IntoView {
    let setup = Resource::new(|| (), |_| two_step_setup());
    let confirm = ServerAction::<TwoStepConfirm>::new();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match setup.await {
                    Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                    Ok(None) => view! { <TwoStepOff/> }.into_any(),
                    Ok(Some(setup)) => view! {
                        <ol class="steps">
                            <li>"Scan this code with your authenticator app."
                                <div class="qr" inner_html=setup.qr_svg></div>
                                <details>
                                    <summary>"Cannot scan it?"</summary>
                                    <p>"Type this key into the app instead (time-based, 6 digits):"</p>
                                    <code class="totp-secret">{setup.secret}</code>
                                </details>
                            </li>
                            <li>"Enter the 6 digits it shows, and your password."</li>
                        </ol>
                    }.into_any(),
                }
            })}
        </Suspense>
        {move || match confirm.value().get() {
            Some(Ok(codes)) => view! { <RecoveryCodes codes/> }.into_any(),
            other => view! {
                <ErrorNotice error=Signal::derive(move || other.clone().and_then(Result::err))/>
                <ActionForm action=confirm attr:class="stack">
                    <label for="totp_code">"Code from the app"</label>
                    <input id="totp_code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="8" required/>
                    <CurrentPassword password/>
                    <button type="submit" class="primary" disabled=move || confirm.pending().get()>"Turn on two-step sign-in"</button>
                </ActionForm>
            }.into_any(),
        }}
    }
}

#[component]
fn TwoStepOn(left: i64, password: bool) -> impl IntoView {
    let renew = ServerAction::<RecoveryCodesRenew>::new();
    view! {
        <p>"On: sign-in asks for a code from your authenticator app. Recovery codes left: " <strong class="codes-left">{left}</strong> "."</p>
        {move || match renew.value().get() {
            Some(Ok(codes)) => view! { <RecoveryCodes codes/> }.into_any(),
            other => view! {
                <ErrorNotice error=Signal::derive(move || other.clone().and_then(Result::err))/>
                <details>
                    <summary>"Make new recovery codes"</summary>
                    <ActionForm action=renew attr:class="stack">
                        <CurrentPassword password/>
                        <button type="submit" disabled=move || renew.pending().get()>"Make new recovery codes"</button>
                    </ActionForm>
                </details>
            }.into_any(),
        }}
        <details>
            <summary>"Turn off two-step sign-in"</summary>
            <ErrorNotice error=section_error(Some("two-step"))/>
            <form method="post" action=TwoStepRemove::PATH class="stack">
                <CurrentPassword password id="remove_password"/>
                <button type="submit" class="danger">"Turn off"</button>
            </form>
        </details>
    }
}
