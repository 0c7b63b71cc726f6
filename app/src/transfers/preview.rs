//! Previews on an object's page: images, text (its first 64 KiB and more on request by ranged
//! GETs, as text; CSV and TSV as a table, JSON foldable), PDF, audio and video, all loaded by the
//! browser from S3 on a presigned URL.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    formats::{rows, Format, JsonPreview, TablePreview, TABLE_ROWS},
    preview_url,
    ranged::TextSoFar,
    rich::Rich,
};
use crate::format::human_size;

/// How much of a text object the preview shows at first, and each "Load more" adds.
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
            "txt" | "md" | "markdown" | "log" | "csv" | "tsv" | "json" | "yaml" | "yml" | "xml"
            | "toml" | "ini" | "cfg" | "rs" | "py" | "js" | "mjs" | "cjs" | "ts" | "tsx" | "sh"
            | "bash" | "sql" | "html" | "htm" | "css" | "scss" | "go" | "java" | "kt" | "kts"
            | "c" | "h" | "cc" | "cpp" | "hpp" | "cs" | "rb" | "php" | "swift" | "lua" | "r"
            | "pl" | "diff" | "patch" | "graphql" | "gql" => Some(PreviewKind::Text),
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
    let size = size.max(0) as u64;
    // The presigned URL, or why there is none; for text, what was read of it so far.
    let loaded = RwSignal::new(None::<Result<String, String>>);
    let text = RwSignal::new(TextSoFar::default());
    let more = RwSignal::new(More::Idle);
    let place = StoredValue::new((bucket, key));
    // A piece read from `from` on joins the text.
    let take = move |piece: Vec<u8>, from: u64| {
        let last = from + piece.len() as u64 >= size;
        text.try_update(|t| t.push(&piece, last));
    };
    // The next piece, on the URL the preview was loaded with; signed anew (one assumption) only
    // when that one no longer works (it lives `PRESIGN_SECONDS`).
    let read_more = move || {
        let (bucket, key) = place.get_value();
        let from = text.with_untracked(|t| t.bytes);
        let signed = loaded.with_untracked(|l| l.clone().and_then(Result::ok));
        more.set(More::Loading);
        leptos::task::spawn_local(async move {
            let earlier = match signed {
                Some(url) => next_piece(&url, from, size).await.ok(),
                None => None,
            };
            let piece = match earlier {
                Some(piece) => Ok(piece),
                None => match preview_url(connection, bucket, key, kind).await {
                    Ok(url) => next_piece(&url, from, size).await,
                    Err(err) => Err(err.to_string()),
                },
            };
            match piece {
                Ok(piece) => {
                    take(piece, from);
                    more.try_set(More::Idle);
                }
                Err(why) => {
                    more.try_set(More::Failed(why));
                }
            }
        });
    };
    Effect::new(move |_| {
        let (bucket, key) = place.get_value();
        leptos::task::spawn_local(async move {
            let result = match preview_url(connection, bucket, key, kind).await {
                Err(err) => Err(err.to_string()),
                Ok(url) if kind == PreviewKind::Text => {
                    next_piece(&url, 0, size).await.map(|piece| {
                        take(piece, 0);
                        url
                    })
                }
                Ok(url) => Ok(url),
            };
            loaded.try_set(Some(result));
        });
    });
    let cut = move || text.with(|t| t.bytes < size);
    view! {
        <section class="card preview" aria-label="Preview">
            {move || match loaded.get() {
                None => view! { <p class="muted">"Loading the preview…"</p> }.into_any(),
                Some(Err(why)) => view! { <p class="notice error">{format!("The preview could not be loaded: {why}")}</p> }.into_any(),
                Some(Ok(url)) => match kind {
                    PreviewKind::Image => view! { <img class="preview-image" src=url alt=format!("Preview of {name}")/> }.into_any(),
                    PreviewKind::Audio => view! { <audio controls src=url></audio> }.into_any(),
                    PreviewKind::Video => view! { <video controls src=url class="preview-video"></video> }.into_any(),
                    PreviewKind::Pdf => view! { <iframe class="preview-pdf" src=url title=format!("Preview of {name}")></iframe> }.into_any(),
                    PreviewKind::Text => view! {
                        {move || text_view(text.with(|t| t.text.clone()), format, cut())}
                        {move || cut().then(|| view! {
                            <p class="preview-more muted">
                                {format!("The first {} of {}. ", human_size(text.with(|t| t.bytes)), human_size(size))}
                                <button type="button" class="button" disabled=move || more.get() == More::Loading on:click=move |_| read_more()>
                                    {move || match more.get() { More::Loading => "Loading…", _ => "Load more" }}
                                </button>
                            </p>
                        })}
                        {move || match more.get() { More::Failed(why) => Some(view! { <p class="notice error" role="alert">{format!("More could not be loaded: {why}")}</p> }), _ => None }}
                    }.into_any(),
                },
            }}
        </section>
    }
}

/// Where "Load more" is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum More {
    Idle,
    Loading,
    Failed(String),
}

/// The next [`TEXT_PREVIEW_BYTES`] (or what is left) of a text object from `from` on.
async fn next_piece(url: &str, from: u64, size: u64) -> Result<Vec<u8>, String> {
    let length = u64::from(TEXT_PREVIEW_BYTES).min(size.saturating_sub(from));
    if length == 0 {
        return Ok(Vec::new());
    }
    #[cfg(feature = "hydrate")]
    {
        super::ranged::fetch_range(url, from, length).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = url;
        Err("previews load in the browser".to_owned())
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
        Format::Markdown | Format::Code(_) => view! { <Rich text format/> }.into_any(),
        _ => view! { <pre class="preview-text">{text}</pre> }.into_any(),
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
