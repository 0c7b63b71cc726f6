//! Transfers: object bytes go straight between the browser and S3. Crossview only signs: each
//! link is presigned with credentials assumed for that one key and that one action.

mod formats;
mod preview;
mod ranged;
mod rich;
#[cfg(feature = "ssr")]
mod rules;
#[cfg(feature = "ssr")]
pub mod ssr;
mod unfinished;
mod upload;
#[cfg(feature = "hydrate")]
pub(crate) mod xhr;

use leptos::{
    prelude::*,
    server_fn::{
        codec::{GetUrl, Json},
        ServerFn,
    },
};
pub use preview::{preview_kind, Preview, PreviewKind};
use serde::{Deserialize, Serialize};
pub use upload::{cors_rule, Uploader, Uploads};

#[cfg(feature = "ssr")]
use crate::{
    aws::access::Target,
    call::{self, for_key},
};
use crate::{error::AppError, url::encode_component};

/// How the browser sends one file, decided (and signed) by the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UploadPlan {
    /// One presigned PUT, to be sent with this `Content-Type` and, when `if_none_match`, with
    /// `If-None-Match: *` (signed into the URL: S3 refuses it if the key exists by then).
    Single {
        url: String,
        content_type: String,
        if_none_match: bool,
    },
    /// A multipart upload already created: `parts` parts of `part_size` bytes (the last one
    /// shorter), sent `parallel` at a time on URLs fetched in batches. `ticket` binds the upload
    /// to the size declared for it; part URLs and completion need it back. `held`: the parts S3
    /// already holds when an unfinished upload of the same key and size goes on (after a
    /// reload, a closed tab, a lost network); only the others are sent.
    Multipart {
        upload: MultipartUpload,
        part_size: u64,
        parts: u32,
        parallel: u32,
        held: Vec<SentPart>,
    },
}

/// A multipart upload as the browser holds it: S3's upload id, and the server's ticket that
/// binds it to the size declared when it started (the size is in the ticket, signed). A ticket
/// expires with the part URLs issued beside it (plus time to finish and complete); each batch
/// of part URLs comes with a renewed one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultipartUpload {
    pub id: String,
    pub ticket: String,
}

/// A batch of part URLs, and the upload's ticket renewed to expire with them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartUrls {
    pub urls: Vec<String>,
    pub ticket: String,
}

/// One part the browser sent, with the ETag S3 answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentPart {
    pub number: i32,
    pub etag: String,
}

/// A multipart upload S3 holds unfinished in a folder (or below it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnfinishedUpload {
    pub key: String,
    pub id: String,
    /// How long ago it began, as S3 says.
    pub age_seconds: Option<u64>,
    /// The parts S3 holds and their bytes (`None`: not counted, or S3 would not say).
    pub held: Option<(u32, u64)>,
}

/// A folder's unfinished uploads, oldest first, and what cleans them up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnfinishedList {
    pub uploads: Vec<UnfinishedUpload>,
    /// S3 holds more than the list shows.
    pub more: bool,
    pub cleanup: Cleanup,
}

/// Whether the bucket's lifecycle rules abort the folder's unfinished uploads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cleanup {
    /// An enabled rule covering the folder aborts them this many days after they began.
    AfterDays(i32),
    None,
    /// The rules could not be read: why.
    Unknown(String),
}

/// The unfinished multipart uploads under `folder`, with what each holds, and whether the
/// bucket's lifecycle rules clean them up.
#[server(endpoint = "uploads_unfinished", input = Json)]
pub async fn unfinished_uploads(
    connection: i64,
    bucket: String,
    folder: String,
) -> Result<UnfinishedList, AppError> {
    call::signed_in(async |cx| {
        ssr::unfinished(&cx.state, cx.user.id, connection, (&bucket, &folder)).await
    })
    .await
}

/// A presigned GET that shows the object in the page (inline; text as plain text, so an HTML
/// object is never rendered as a page).
#[server(endpoint = "preview", input = Json)]
pub async fn preview_url(
    connection: i64,
    bucket: String,
    key: String,
    kind: PreviewKind,
) -> Result<String, AppError> {
    for_key(connection, &bucket, &key, async |target| {
        ssr::preview_url(target, kind).await
    })
    .await
}

/// Which of `keys` (in `folder`, at most 100) exist already: asked before an upload, so that
/// none overwrites an object unless the user chose to.
#[server(endpoint = "upload_existing", input = Json)]
pub async fn existing_keys(
    connection: i64,
    bucket: String,
    folder: String,
    keys: Vec<String>,
) -> Result<Vec<String>, AppError> {
    call::signed_in(async |cx| {
        ssr::existing(&cx.state, cx.user.id, connection, (&bucket, &folder), &keys).await
    })
    .await
}

/// Starts an upload of `key` (`size` bytes, `content_type` from the file): checks the
/// deployment's rules, then signs one PUT or creates a multipart upload. Unless `replace`,
/// S3 itself refuses to write over an object (a conditional write).
#[server(endpoint = "upload_start", input = Json)]
pub async fn start_upload(
    connection: i64,
    bucket: String,
    key: String,
    size: u64,
    content_type: String,
    replace: bool,
) -> Result<UploadPlan, AppError> {
    for_key(connection, &bucket, &key, async |target| {
        ssr::start_upload(target, size, &content_type, replace).await
    })
    .await
}

/// Presigned URLs for parts `first..first + count` of a multipart upload.
#[server(endpoint = "upload_parts", input = Json)]
pub async fn upload_part_urls(
    connection: i64,
    bucket: String,
    key: String,
    upload: MultipartUpload,
    first: i32,
    count: i32,
) -> Result<PartUrls, AppError> {
    for_key(connection, &bucket, &key, async |target| {
        ssr::part_urls(target, &upload, first, count).await
    })
    .await
}

/// Completes a multipart upload with the parts' ETags (unless `replace`, only if the key is
/// still free).
#[server(endpoint = "upload_complete", input = Json)]
pub async fn complete_upload(
    connection: i64,
    bucket: String,
    key: String,
    upload: MultipartUpload,
    parts: Vec<SentPart>,
    replace: bool,
) -> Result<(), AppError> {
    for_key(connection, &bucket, &key, async |target| {
        ssr::complete_upload(target, &upload, parts, replace).await
    })
    .await
}

/// Aborts a multipart upload (cancelled, failed, or left unfinished), so no parts are left
/// behind. Only the upload's id matters here: its ticket may be empty.
#[server(endpoint = "upload_abort", input = Json)]
pub async fn abort_upload(
    connection: i64,
    bucket: String,
    key: String,
    upload: MultipartUpload,
) -> Result<(), AppError> {
    for_key(connection, &bucket, &key, async |target| {
        ssr::abort_upload(target, &upload.id).await
    })
    .await
}

/// Where a "Download" link points: a plain GET, so it works before hydration and from a new tab.
pub fn download_href(connection: i64, bucket: &str, key: &str) -> String {
    format!(
        "{}?connection={connection}&bucket={}&key={}",
        Download::PATH,
        encode_component(bucket),
        encode_component(key)
    )
}

/// A "Download" link for one version of an object.
pub fn version_href(connection: i64, bucket: &str, key: &str, version: &str) -> String {
    format!(
        "{}&version={}",
        download_href(connection, bucket, key),
        encode_component(version)
    )
}

/// Redirects to a presigned GET of the object (saved under its own name), after checking that
/// the role may read it. The URL lives `PRESIGN_SECONDS` (default 10 minutes).
#[server(endpoint = "download", input = GetUrl)]
pub async fn download(
    connection: i64,
    bucket: String,
    key: String,
    version: Option<String>,
) -> Result<(), AppError> {
    call::form(crate::location::object_href(connection, &bucket, &key))
        .signed_in(async |cx| {
            let target = Target::new(&cx.state, cx.user.id, connection, &bucket, &key)?;
            call::redirect(&target.download_url(version.as_deref()).await?);
            Ok(())
        })
        .await
}

/// S3's own words for a refusal the browser got an answer to (so not a CORS problem):
/// `S3 answered HTTP 403 AccessDenied: Request has expired`.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // used by the browser's requests
pub(crate) fn s3_refusal(status: u16, body: &str) -> String {
    let element = |name: &str| {
        let (open, close) = (format!("<{name}>"), format!("</{name}>"));
        let start = body.find(&open)? + open.len();
        let end = start + body[start..].find(&close)?;
        Some(body[start..end].trim().to_owned())
    };
    match (element("Code"), element("Message")) {
        (Some(code), Some(message)) => format!("S3 answered HTTP {status} {code}: {message}"),
        (Some(code), None) => format!("S3 answered HTTP {status} {code}"),
        _ => format!("S3 answered HTTP {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_links_carry_the_key_exactly() {
        assert_eq!(
            download_href(3, "b", "a/b c+d?.txt"),
            "/api/download?connection=3&bucket=b&key=a%2Fb%20c%2Bd%3F.txt"
        );
    }

    #[test]
    fn a_refusal_is_told_in_s3s_own_words() {
        let expired = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>";
        assert_eq!(
            s3_refusal(403, expired),
            "S3 answered HTTP 403 AccessDenied: Request has expired"
        );
        assert_eq!(s3_refusal(500, ""), "S3 answered HTTP 500");
    }
}
