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

/// What the last plain form did (`?notice=`), in a status region that screen readers announce.
#[component]
pub fn Confirmation() -> impl IntoView {
    let notice = crate::forms::notice_from_query();
    view! {
        <div class="toast-region" role="status" aria-live="polite">
            {move || notice.get().map(|text| view! { <p class="notice success">{text}</p> })}
        </div>
    }
}

/// Plain forms posted by the browser itself (no script of ours handles them) say that they are
/// on their way: the form is marked `aria-busy` (its button shows progress after 300 ms, by
/// CSS), a second submit while it is on its way is dropped, and the status region says
/// "Working…". The answer is a new page, which ends it; coming back to this one from the
/// browser's history clears it.
#[component]
pub fn BusyForms() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(|_| busy::install());
    view! { <p id="busy-status" class="visually-hidden" role="status" aria-live="polite"></p> }
}

#[cfg(feature = "hydrate")]
mod busy {
    use wasm_bindgen::{closure::Closure, JsCast};

    pub fn install() {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let Some(root) = document.document_element() else {
            return;
        };
        // Once a document, however often the layout renders.
        if root.has_attribute("data-busy-forms") {
            return;
        }
        let _ = root.set_attribute("data-busy-forms", "");
        let on_submit = Closure::<dyn Fn(web_sys::Event)>::new(|event: web_sys::Event| {
            let Some(form) = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            if !form.method().eq_ignore_ascii_case("post") {
                return;
            }
            if form.get_attribute("aria-busy").as_deref() == Some("true") {
                event.prevent_default();
                return;
            }
            // Decided once every handler has seen the event: a form our script sends itself
            // (it prevents the browser's post) shows its own progress instead.
            after(0, move || {
                if event.default_prevented() {
                    return;
                }
                let _ = form.set_attribute("aria-busy", "true");
                after(300, || {
                    let region = web_sys::window()
                        .and_then(|w| w.document())
                        .and_then(|d| d.get_element_by_id("busy-status"));
                    if let Some(region) = region {
                        region.set_text_content(Some("Working…"));
                    }
                });
            });
        });
        let on_show = Closure::<dyn Fn(web_sys::Event)>::new(|_| {
            let document = web_sys::window().and_then(|w| w.document());
            if let Some(Ok(busy)) = document.map(|d| d.query_selector_all("form[aria-busy]")) {
                for i in 0..busy.length() {
                    if let Some(form) = busy
                        .item(i)
                        .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
                    {
                        let _ = form.remove_attribute("aria-busy");
                    }
                }
            }
        });
        let _ =
            document.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
        if let Some(window) = web_sys::window() {
            let _ = window
                .add_event_listener_with_callback("pageshow", on_show.as_ref().unchecked_ref());
        }
        on_submit.forget();
        on_show.forget();
    }

    /// Runs `then` once, `millis` from now.
    fn after(millis: i32, then: impl FnOnce() + 'static) {
        let then = Closure::once_into_js(then);
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                then.unchecked_ref(),
                millis,
            );
        }
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
    // The label is the button's text: a page with several says what each copies.
    view! {
        <button type="button" class="copy" aria-label=label on:click=copy>
            {move || if copied.get() { "Copied" } else { label }}
        </button>
        <span class="visually-hidden" role="status">{move || copied.get().then_some("Copied")}</span>
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

/// Saves what the page made (`parts`: strings or byte arrays) as a download named `name`. The
/// object URL is revoked a minute later, once the download holds the data itself.
#[cfg(feature = "hydrate")]
pub fn save_file(parts: &js_sys::Array, mime: &str, name: &str) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let refused = |_| "the browser could not save the file".to_owned();
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob =
        web_sys::Blob::new_with_blob_sequence_and_options(parts, &options).map_err(refused)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(refused)?;
    let window = web_sys::window().ok_or("no window")?;
    let link = window
        .document()
        .ok_or("no document")?
        .create_element("a")
        .map_err(refused)?
        .dyn_into::<web_sys::HtmlAnchorElement>()
        .map_err(|_| "no link")?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    let _ = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
    Ok(())
}
