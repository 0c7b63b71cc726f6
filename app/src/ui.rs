//! Small presentational pieces shared by every capability.

use leptos::prelude::*;

use crate::{error::AppError, iam::Action};

/// An error shown above a form or a listing, with what to do about it; announced to screen
/// readers. A refused permission comes with the policy statement that would grant it.
#[component]
pub fn ErrorNotice(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|err| {
            let fix = match &err {
                AppError::Aws(problem) => Some(view! { <p>{problem.fix()}</p> }.into_any()),
                AppError::Denied { action, resource } => Some(
                    view! {
                        <p>"Add this statement to the role's permissions policy in IAM:"</p>
                        <CopyBlock text=grant_statement(*action, resource) label="Policy statement"/>
                    }
                    .into_any(),
                ),
                _ => None,
            };
            view! {
                <div class="notice error" role="alert">
                    <p>{err.to_string()}</p>
                    {fix}
                </div>
            }
        })
    }
}

/// The IAM policy statement that grants `action` on `resource`.
pub fn grant_statement(action: Action, resource: &str) -> String {
    let statement =
        serde_json::json!({ "Effect": "Allow", "Action": action, "Resource": resource });
    serde_json::to_string_pretty(&statement).unwrap_or_default()
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

/// `text` made safe to place between HTML tags or inside a quoted attribute. Leptos escapes
/// what views render; this is for the few places it does not (the `<title>` that `leptos_meta`
/// 0.8 writes into the server-rendered head as it is, and pages built outside Leptos).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Every page's title, `<page> · Crossview`: the one formatter `leptos_meta` applies to each
/// `<Title>`. On the server it also escapes, since `leptos_meta` 0.8 (and 0.9.0-rc1) write the
/// title text into the head without escaping it, and a title often names a bucket, a prefix or
/// a key. In the browser the text goes to `document.title`, which is text already.
pub fn page_title(page: String) -> String {
    let title = format!("{page} · Crossview");
    #[cfg(feature = "ssr")]
    let title = escape_html(&title);
    title
}

/// This site's origin (`https://crossview.example.com`), known in the browser only.
pub fn site_origin() -> String {
    #[cfg(feature = "hydrate")]
    return window().location().origin().unwrap_or_default();
    #[cfg(not(feature = "hydrate"))]
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_leaves_no_markup() {
        let hostile = r#"</title><meta http-equiv="refresh" content="0;url=https://evil.example/"><img src=x onerror='a&b'>"#;
        let escaped = escape_html(hostile);
        assert!(!escaped.contains(['<', '>', '"', '\'']), "{escaped}");
        assert_eq!(escape_html("a & b"), "a &amp; b");
        assert_eq!(escape_html("ü 日本"), "ü 日本");
    }
}
