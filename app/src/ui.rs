//! Small presentational pieces shared by every capability.

use leptos::prelude::*;

use crate::error::AppError;

/// An error shown above a form or a listing; announced to screen readers.
#[component]
pub fn ErrorNotice(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|err| {
            view! { <p class="notice error" role="alert">{err.to_string()}</p> }
        })
    }
}
