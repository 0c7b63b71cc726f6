//! Previews on an object's page: images, text (its first 64 KiB, as text; CSV and TSV as a table,
//! JSON foldable), PDF, audio and video, all loaded by the browser from S3 on a presigned URL.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    formats::{rows, Format, JsonPreview, TablePreview, TABLE_ROWS},
    preview_url,
};

/// How much of a text object the preview shows.
pub const TEXT_PREVIEW_BYTES: u32 = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PreviewKind {
    Image,
    Text,
    Pdf,
    Audio,
    Video,
}

/// What preview an object gets, from its content type, or its name's extension when the type
/// says nothing useful (`binary/octet-stream`, `application/octet-stream`, none).
pub fn preview_kind(content_type: Option<&str>, key: &str) -> Option<PreviewKind> {
    let content_type = content_type.unwrap_or_default().to_lowercase();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let by_type = match essence.split_once('/') {
        Some(("image", _)) => Some(PreviewKind::Image),
        Some(("audio", _)) => Some(PreviewKind::Audio),
        Some(("video", _)) => Some(PreviewKind::Video),
        Some(("text", _)) => Some(PreviewKind::Text),
        Some(("application", "pdf")) => Some(PreviewKind::Pdf),
        Some(("application", sub))
            if [
                "json",
                "xml",
                "javascript",
                "x-yaml",
                "yaml",
                "toml",
                "x-sh",
            ]
            .contains(&sub)
                || sub.ends_with("+json")
                || sub.ends_with("+xml") =>
        {
            Some(PreviewKind::Text)
        }
        _ => None,
    };
    by_type.or_else(|| {
        let extension = key.rsplit_once('.')?.1.to_lowercase();
        match extension.as_str() {
            "png" | "jpg" | "jpeg" | "gif" | "webp" | "avif" | "svg" | "bmp" | "ico" => {
                Some(PreviewKind::Image)
            }
            "txt" | "md" | "log" | "csv" | "tsv" | "json" | "yaml" | "yml" | "xml" | "toml"
            | "ini" | "rs" | "py" | "js" | "ts" | "sh" | "sql" | "html" | "css" => {
                Some(PreviewKind::Text)
            }
            "pdf" => Some(PreviewKind::Pdf),
            "mp3" | "wav" | "ogg" | "flac" | "m4a" => Some(PreviewKind::Audio),
            "mp4" | "webm" | "mov" => Some(PreviewKind::Video),
            _ => None,
        }
    })
}

/// The preview itself. It loads in the browser only, after hydration (the server renders the
/// loading line, and so does the browser until then), and shows text through a text node: never
/// as markup.
#[component]
pub fn Preview(
    connection: i64,
    bucket: String,
    key: String,
    kind: PreviewKind,
    size: i64,
    /// The object's `Content-Type` ("" when it has none): with the name, it says how text reads.
    content_type: String,
) -> impl IntoView {
    let format = Format::of(&content_type, &key);
    let name = crate::location::name_in(&key, crate::location::folder_of(&key)).to_owned();
    // What to show: the presigned URL and, for text, the text itself; or why not.
    let loaded = RwSignal::new(None::<Result<(String, Option<String>), String>>);
    Effect::new(move |_| {
        let (bucket, key) = (bucket.clone(), key.clone());
        leptos::task::spawn_local(async move {
            let result = match preview_url(connection, bucket, key, kind).await {
                Err(err) => Err(err.to_string()),
                Ok(url) if kind == PreviewKind::Text => {
                    fetch_text(url.clone()).await.map(|text| (url, Some(text)))
                }
                Ok(url) => Ok((url, None)),
            };
            loaded.try_set(Some(result));
        });
    });
    let cut = size > i64::from(TEXT_PREVIEW_BYTES);
    view! {
        <section class="card preview" aria-label="Preview">
            {move || match loaded.get() {
                None => view! { <p class="muted">"Loading the preview…"</p> }.into_any(),
                Some(Err(why)) => view! { <p class="notice error">{format!("The preview could not be loaded: {why}")}</p> }.into_any(),
                Some(Ok((url, text))) => match kind {
                    PreviewKind::Image => view! { <img class="preview-image" src=url alt=format!("Preview of {name}")/> }.into_any(),
                    PreviewKind::Audio => view! { <audio controls src=url></audio> }.into_any(),
                    PreviewKind::Video => view! { <video controls src=url class="preview-video"></video> }.into_any(),
                    PreviewKind::Pdf => view! { <iframe class="preview-pdf" src=url title=format!("Preview of {name}")></iframe> }.into_any(),
                    PreviewKind::Text => view! {
                        {text_view(text.unwrap_or_default(), format, cut)}
                        {cut.then(|| view! { <p class="muted">"The first 64 KiB. Download the file for the rest."</p> })}
                    }.into_any(),
                },
            }}
        </section>
    }
}

/// Text as its format reads: a table, a JSON tree (when the whole of it is here and parses), or
/// plain text. All of it as text nodes.
fn text_view(text: String, format: Format, cut: bool) -> AnyView {
    match format {
        Format::Delimited(delimiter) => {
            view! { <TablePreview rows=rows(&text, delimiter, !cut, TABLE_ROWS) cut=cut/> }
                .into_any()
        }
        Format::Json if !cut => match serde_json::from_str(&text) {
            Ok(value) => view! { <JsonPreview value=value/> }.into_any(),
            Err(_) => view! { <pre class="preview-text">{text}</pre> }.into_any(),
        },
        _ => view! { <pre class="preview-text">{text}</pre> }.into_any(),
    }
}

/// The first 64 KiB of a text object, read by the browser from S3.
async fn fetch_text(url: String) -> Result<String, String> {
    #[cfg(feature = "hydrate")]
    {
        let range = format!("bytes=0-{}", TEXT_PREVIEW_BYTES - 1);
        let xhr = super::xhr::send(
            "GET",
            &url,
            &[("Range", &range)],
            None,
            &|_| (),
            RwSignal::new(false),
        )
        .await
        .map_err(|failure| match failure {
            super::xhr::Failure::Other(why) => why,
            _ => "the browser could not reach S3 (check the bucket's CORS rule)".to_owned(),
        })?;
        xhr.response_text()
            .ok()
            .flatten()
            .ok_or_else(|| "no text".to_owned())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = url;
        Err("previews load in the browser".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_follow_the_type_then_the_extension() {
        use PreviewKind::*;
        assert_eq!(preview_kind(Some("image/png"), "x"), Some(Image));
        assert_eq!(
            preview_kind(Some("text/html; charset=utf-8"), "x"),
            Some(Text)
        );
        assert_eq!(preview_kind(Some("application/pdf"), "x"), Some(Pdf));
        assert_eq!(preview_kind(Some("application/ld+json"), "x"), Some(Text));
        assert_eq!(
            preview_kind(Some("binary/octet-stream"), "a/b.JPG"),
            Some(Image)
        );
        assert_eq!(preview_kind(None, "notes.md"), Some(Text));
        assert_eq!(preview_kind(Some("application/zip"), "a.zip"), None);
        assert_eq!(preview_kind(None, "no-extension"), None);
    }
}
