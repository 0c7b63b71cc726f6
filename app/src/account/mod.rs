//! Accounts: sign up, sign in, sign out, change password, and who is signed in.
//!
//! The forms are plain HTML forms posting to these server functions, so they behave the same
//! with the app's script or without it (the pages before signing in are served without it, see
//! `shell::served_plain`); errors come back as `?error=<code>` on the form's page. The session
//! and password plumbing they use lives in `auth`.

mod pages;
mod passkeys;
mod sessions;
mod sso;
mod step_up;
mod two_step;

use leptos::prelude::*;
pub use pages::{AccountPage, ForgotPasswordPage, ResetPasswordPage, SignInPage, SignUpPage};
pub use passkeys::PASSKEY_SCRIPT;
pub use sso::LinkAccountPage;
pub use step_up::{ConfirmPage, StepUpGuard, StepUpPrompt};
pub use two_step::SecondStepPage;

#[cfg(feature = "ssr")]
use crate::{auth::ssr, call, limits};
use crate::{auth::User, error::AppError};

#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    call::anyone(async |_| Ok(ssr::auth_session().await?.user.map(|u| u.public()))).await
}

/// `bootstrap`: the operator's `BOOTSTRAP_TOKEN`, from whoever sets the deployment up.
#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    password: String,
    #[server(default)] bootstrap: String,
) -> Result<(), AppError> {
    call::form("/sign-up")
        .keep("email", &email)
        .anyone(async |state| {
            // With passwords off, only the operator's bootstrap sign-up still takes one.
            if !state.config.sign_in.password && bootstrap.trim().is_empty() {
                return Err(AppError::SignInMethodOff);
            }
            let mut auth = ssr::auth_session().await?;
            if let Some(address) = ssr::client_address(&state.config).await {
                let limit = limits::sign_up_address(state.config.signups_per_address_per_hour);
                limits::take(&state.pool, &[(&limit, &address)]).await?;
            }
            let user = ssr::create_user(
                &state.pool,
                &state.config,
                &email,
                &password,
                Some(&bootstrap),
            )
            .await?;
            ssr::log_in(&mut auth, &user).await?;
            // The password was set just now: it proves the user for the next ten minutes.
            ssr::step_up::mark(&auth).await?;
            ssr::device::remember(&state.config, &ssr::normal_email(&email));
            call::redirect("/");
            Ok(())
        })
        .await
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String, next: String) -> Result<(), AppError> {
    call::form("/sign-in")
        .keep("next", &next)
        .keep("email", &email)
        .anyone(async |state| {
            if !state.config.sign_in.password {
                return Err(AppError::SignInMethodOff);
            }
            let mut auth = ssr::auth_session().await?;
            let address = ssr::client_address(&state.config).await;
            let normal = ssr::normal_email(&email);
            let device = ssr::device::of_request(&state.config, &normal);
            let user = ssr::sign_in(
                &state.pool,
                &email,
                &password,
                address.as_deref(),
                device.as_deref(),
            )
            .await?;
            if ssr::factors::after_first_step(&mut auth, &state.pool, &user, "password", false)
                .await?
            {
                // The browser becomes trusted only once the second step is passed too.
                let next = crate::url::encode_path(ssr::safe_next(&next));
                call::redirect(&format!("/sign-in/code?next={next}"));
                return Ok(());
            }
            arrived(&state, (user.id, &user.email), "a password").await;
            call::redirect(ssr::safe_next(&next));
            Ok(())
        })
        .await
}

/// A full sign-in's last steps, whatever its method: a browser that had not signed in to the
/// account before is told of (the notice says `how`), then trusted.
#[cfg(feature = "ssr")]
async fn arrived(state: &crate::state::AppState, (user, email): (i64, &str), how: &str) {
    let normal = ssr::normal_email(email);
    if ssr::device::of_request(&state.config, &normal).is_none() {
        crate::notify::letters::new_sign_in(state, user, how).await;
    }
    ssr::device::remember(&state.config, &normal);
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    call::anyone(async |_| {
        let mut auth = ssr::auth_session().await?;
        auth.logout().await.map_err(AppError::internal)?;
        call::redirect("/sign-in");
        Ok(())
    })
    .await
}

/// "Forgot your password?": emails the account a reset link, if the deployment sends email and
/// the address has an account. The answer is the same either way, and comes before the work.
#[server(endpoint = "forgot_password")]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    call::form("/forgot")
        .keep("email", &email)
        .anyone(async |state| {
            if state.config.mail.is_none() {
                return Err(AppError::MailOff);
            }
            if !state.config.sign_in.password {
                return Err(AppError::SignInMethodOff);
            }
            let email = ssr::normal_email(&email);
            ssr::validate_email(&email)?;
            let address = ssr::client_address(&state.config).await;
            let mut counters = vec![(&limits::FORGOT_EMAIL, email.as_str())];
            if let Some(address) = &address {
                counters.push((&limits::FORGOT_ADDRESS, address.as_str()));
            }
            limits::take(&state.pool, &counters).await?;
            let (pool, config) = (state.pool.clone(), state.config.clone());
            tokio::spawn(async move {
                match ssr::reset::request_by_email(&pool, &email).await {
                    Ok(Some((to, path))) => crate::notify::letters::reset(&config, to, &path),
                    Ok(None) => {}
                    Err(err) => tracing::warn!("reset link by email not issued: {err}"),
                }
            });
            call::redirect("/forgot?sent=1");
            Ok(())
        })
        .await
}

/// The address a reset link is for, if the link still works (the page names it).
#[server(endpoint = "reset_link")]
pub async fn reset_link(token: String) -> Result<String, AppError> {
    call::anyone(async |state| ssr::reset::email_of(&state.pool, &token).await).await
}

/// Sets a new password through a one-time reset link, ends every other session of the account
/// and signs this browser in.
#[server(endpoint = "reset_password")]
pub async fn reset_password(
    token: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    let page = match token.bytes().all(|b| b.is_ascii_hexdigit()) && token.len() == 64 {
        true => format!("/reset/{token}"),
        false => "/sign-in".to_owned(),
    };
    call::form(page)
        .anyone(async |state| {
            let user =
                ssr::reset::redeem(&state.pool, &token, &new_password, &confirm_password).await?;
            let mut auth = ssr::auth_session().await?;
            ssr::log_in(&mut auth, &user).await?;
            ssr::step_up::forget(&auth).await?;
            ssr::device::remember(&state.config, &ssr::normal_email(&user.email));
            call::redirect("/account?reset=1");
            Ok(())
        })
        .await
}

#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    call::form("/account")
        .signed_in(async |cx| {
            let changed = ssr::change_password(
                cx.pool(),
                cx.user.id,
                &current_password,
                &new_password,
                &confirm_password,
            )
            .await?;
            // Every other session now carries a stale epoch and ends; this one is renewed, under
            // a new id (a session id seen before the change is worth nothing after it).
            let mut auth = ssr::auth_session().await?;
            ssr::log_in(&mut auth, &changed).await?;
            call::redirect("/account?changed=1");
            Ok(())
        })
        .await
}

/// The card every page before signing in is drawn in: what Crossview is, then the page's form.
#[component]
fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <leptos_meta::Title text=title/>
        <main class="auth">
            <section class="card auth-card">
                <p class="brand">"Crossview"</p>
                <p class="tagline">"Browse S3 in all your AWS accounts from one place: no access keys stored, every access audited."</p>
                <h1>{title}</h1>
                {children()}
            </section>
        </main>
    }
}
