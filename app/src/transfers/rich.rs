//! Markdown rendered and source code highlighted, in the browser, by markdown-it and
//! highlight.js (`rich.js`): loaded when such a preview first opens, not with the app. Until
//! they answer (or if they cannot), the text is shown as plain text.

use leptos::prelude::*;

use super::formats::Format;

#[component]
pub fn Rich(text: String, format: Format) -> impl IntoView {
    let rendered = RwSignal::new(None::<Result<String, String>>);
    #[cfg(feature = "hydrate")]
    {
        let text = text.clone();
        leptos::task::spawn_local(async move {
            rendered.try_set(Some(render(&text, format).await));
        });
    }
    move || match rendered.get() {
        Some(Ok(html)) => match format {
            Format::Markdown => {
                view! { <div class="preview-markdown" inner_html=html></div> }.into_any()
            }
            _ => view! {
                <pre class="preview-code"><code class="hljs" inner_html=html></code></pre>
            }
            .into_any(),
        },
        Some(Err(why)) => view! {
            <p class="muted">{format!("Shown as plain text: {why}")}</p>
            <pre class="preview-text">{text.clone()}</pre>
        }
        .into_any(),
        None => view! { <pre class="preview-text">{text.clone()}</pre> }.into_any(),
    }
}

#[cfg(feature = "hydrate")]
async fn render(text: &str, format: Format) -> Result<String, String> {
    let promise = match format {
        Format::Markdown => js::render_markdown(text),
        Format::Code(language) => js::highlight(text, language),
        _ => return Err("not a rich format".to_owned()),
    };
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()
        .and_then(|html| html.as_string())
        .ok_or_else(|| "the renderer could not be loaded".to_owned())
}

#[cfg(feature = "hydrate")]
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/src/transfers/rich.js")]
    extern "C" {
        #[wasm_bindgen(js_name = renderMarkdown)]
        pub fn render_markdown(text: &str) -> js_sys::Promise;
        pub fn highlight(text: &str, language: &str) -> js_sys::Promise;
    }
}
