//! The account pages. Each form is a plain HTML form, so it works before hydration too.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;

use crate::{
    forms::{error_from_query, section_error},
    ui::ErrorNotice,
    url::use_query,
};

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query();
    let next = move || query.read().get("next").unwrap_or_default().to_owned();
    let email = move || query.read().get("email").unwrap_or_default().to_owned();
    // Blocking: the sign-in form is in the first HTML, so it works before (or without) script.
    let options = Resource::new_blocking(|| (), |_| super::sso::sign_in_ways());
    view! {
        <super::AuthCard title="Sign in">
            <ErrorNotice error=error_from_query()/>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let options = options.await.unwrap_or_else(|_| super::sso::SignInOptions {
                        password: true,
                        ..Default::default()
                    });
                    let others = !options.providers.is_empty() || options.passkey;
                    view! {
                        <div class="stack sign-in-options">
                            <super::sso::ProviderButtons providers=options.providers next=next()/>
                            {options.passkey.then(|| view! { <super::passkeys::PasskeySignIn next=next()/> })}
                        </div>
                        {(others && options.password).then(|| view! { <p class="divider muted">"or with your password"</p> })}
                        {options.password.then(|| view! {
                            <form method="post" action=super::SignIn::PATH class="stack">
                                <input type="hidden" name="next" value=next/>
                                <label for="email">"Email"</label>
                                <input id="email" name="email" type="email" autocomplete="username webauthn" value=email required/>
                                <label for="password">"Password"</label>
                                <input id="password" name="password" type="password" autocomplete="current-password" required/>
                                <button type="submit" class="primary">"Sign in"</button>
                            </form>
                            <p class="muted"><a href="/forgot" data-swap="">"Forgot your password?"</a></p>
                            <p class="muted">"New to Crossview? " <a href="/sign-up" data-swap="">"Create an account"</a></p>
                        })}
                    }
                })}
            </Suspense>
        </super::AuthCard>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let query = use_query();
    let email = move || query.read().get("email").unwrap_or_default().to_owned();
    view! {
        <super::AuthCard title="Create your account">
            <ErrorNotice error=error_from_query()/>
            <form method="post" action=super::SignUp::PATH class="stack">
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" value=email required/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="new-password"
                    minlength="12" maxlength="128" aria-describedby="password-hint" required/>
                <small id="password-hint" class="muted">"12 to 128 characters, not a common password: a few unrelated words work well."</small>
                <details class="bootstrap">
                    <summary>"Setting up this deployment?"</summary>
                    <label for="bootstrap">"Setup token"</label>
                    <input id="bootstrap" name="bootstrap" type="password" autocomplete="off" aria-describedby="bootstrap-hint"/>
                    <small id="bootstrap-hint" class="muted">"The operator's BOOTSTRAP_TOKEN makes this account the first administrator. Everyone else leaves it empty."</small>
                </details>
                <button type="submit" class="primary">"Create account"</button>
            </form>
            <p class="muted">"Already have an account? " <a href="/sign-in" data-swap="">"Sign in"</a></p>
        </super::AuthCard>
    }
}

/// "Forgot your password?": an emailed reset link, when the deployment sends email.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let query = use_query();
    let email = move || query.read().get("email").unwrap_or_default().to_owned();
    let sent = move || query.read().get("sent").is_some();
    view! {
        <super::AuthCard title="Reset your password">
            <ErrorNotice error=error_from_query()/>
            <Show when=sent>
                <p class="notice success" role="status">"If an account uses that address, a link to choose a new password is on its way. It works once, within 30 minutes."</p>
            </Show>
            <form method="post" action=super::ForgotPassword::PATH class="stack">
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" value=email required/>
                <button type="submit" class="primary">"Email me a link"</button>
            </form>
            <p class="muted"><a href="/sign-in" data-swap="">"Back to sign in"</a></p>
        </super::AuthCard>
    }
}

/// A new password, twice (a change of password, and a reset link).
#[component]
fn NewPasswordFields() -> impl IntoView {
    view! {
        <label for="new_password">"New password"</label>
        <input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="12" maxlength="128" required/>
        <label for="confirm_password">"Confirm new password"</label>
        <input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" minlength="12" maxlength="128" required/>
    }
}

/// Where a one-time reset link leads: the account it is for, and a new password, twice.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    // A token is 64 hex digits, nothing to decode: the params map may hold it (see `url`).
    let params = leptos_router::hooks::use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let account = Resource::new(token, super::reset_link);
    view! {
        <super::AuthCard title="Choose a new password">
            <ErrorNotice error=error_from_query()/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match account.await {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(email) => view! {
                            <p>"For " <strong>{email}</strong> ". Setting it signs you in here and out everywhere else."</p>
                            <form method="post" action=super::ResetPassword::PATH class="stack">
                                <input type="hidden" name="token" value=token/>
                                <NewPasswordFields/>
                                <button type="submit" class="primary">"Set password"</button>
                            </form>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </super::AuthCard>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let query = use_query();
    let changed =
        move || query.read().get("changed").is_some() || query.read().get("reset").is_some();
    view! {
        <Title text="Account"/>
        <h1>"Account"</h1>
        <section class="card narrow">
            <h2>"Change password"</h2>
            <p class="muted">"Changing your password signs you out everywhere else."</p>
            <Show when=changed>
                <p class="notice success" role="status">"Password changed. Other sessions have been signed out."</p>
            </Show>
            <ErrorNotice error=section_error(None)/>
            <form method="post" action=super::ChangePassword::PATH class="stack">
                <label for="current_password">"Current password"</label>
                <input id="current_password" name="current_password" type="password" autocomplete="current-password" required/>
                <NewPasswordFields/>
                <button type="submit" class="primary">"Change password"</button>
            </form>
        </section>
        <super::two_step::TwoStepSection/>
        <super::passkeys::PasskeysSection/>
        <super::sessions::SessionsSection/>
    }
}
