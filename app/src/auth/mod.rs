//! Accounts: sign up, sign in, sign out, change password, and who is signed in.
//!
//! The forms are plain HTML forms posting to these server functions, so they behave the same
//! before and after hydration; errors come back as `?error=<code>` on the form's page.

mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
pub use pages::{AccountPage, SignInPage, SignUpPage};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The signed-in user as the browser may see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
}

#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    crate::forms::ssr::with_status(
        async {
            let auth = ssr::auth_session().await?;
            Ok(auth.user.map(|u| u.public()))
        }
        .await,
    )
}

#[server(endpoint = "sign_up")]
pub async fn sign_up(email: String, password: String) -> Result<(), AppError> {
    let result = async {
        let state = crate::state::AppState::current();
        let mut auth = ssr::auth_session().await?;
        let user = ssr::create_user(&state.pool, &state.config, &email, &password).await?;
        auth.login(&user).await.map_err(AppError::internal)?;
        leptos_axum::redirect("/");
        Ok(())
    }
    .await;
    crate::forms::ssr::back_to_form_on_error(result, "/sign-up", &[("email", &email)])
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String, next: String) -> Result<(), AppError> {
    let result = async {
        let state = crate::state::AppState::current();
        let mut auth = ssr::auth_session().await?;
        let address = ssr::client_address(state.config.trust_proxy).await;
        let user = ssr::sign_in(&state.pool, &email, &password, address.as_deref()).await?;
        auth.login(&user).await.map_err(AppError::internal)?;
        leptos_axum::redirect(ssr::safe_next(&next));
        Ok(())
    }
    .await;
    crate::forms::ssr::back_to_form_on_error(
        result,
        "/sign-in",
        &[("next", &next), ("email", &email)],
    )
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let mut auth = ssr::auth_session().await?;
    auth.logout().await.map_err(AppError::internal)?;
    leptos_axum::redirect("/sign-in");
    Ok(())
}

#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    let result = async {
        let state = crate::state::AppState::current();
        let mut auth = ssr::auth_session().await?;
        let user = auth.user.clone().ok_or(AppError::Unauthorized)?;
        let changed = ssr::change_password(
            &state.pool,
            user.id,
            &current_password,
            &new_password,
            &confirm_password,
        )
        .await?;
        // Every other session now carries a stale epoch and ends; this one is renewed.
        auth.login(&changed).await.map_err(AppError::internal)?;
        leptos_axum::redirect("/account?changed=1");
        Ok(())
    }
    .await;
    crate::forms::ssr::back_to_form_on_error(result, "/account", &[])
}
