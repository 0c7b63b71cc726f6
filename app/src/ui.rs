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

/// Copies `text` to the clipboard (once hydrated); the text itself stays selectable on the page.
#[component]
pub fn CopyButton(#[prop(into)] text: String, label: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let _ = window().navigator().clipboard().write_text(&text);
            copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    view! {
        <button type="button" class="copy" aria-label=label on:click=copy>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

/// A labelled block of text to copy: a policy, a command.
#[component]
pub fn CopyBlock(#[prop(into)] text: String, label: &'static str) -> impl IntoView {
    view! {
        <div class="copy-block">
            <CopyButton text=text.clone() label=label/>
            <pre aria-label=label>{text}</pre>
        </div>
    }
}
