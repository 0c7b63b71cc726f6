//! Download a folder, or a selection of objects and folders, as one zip. The browser builds the
//! archive as the bytes arrive (stored, not compressed: S3 objects are mostly compressed
//! already, and storing keeps the browser's CPU free), from presigned GETs straight to S3, and
//! writes it to disk as it goes where it can. The server only walks and signs ([`crate::walk`]):
//! each request lists a page of what was chosen (one fresh assumption, narrowed to what it names,
//! audited as `object.zip`) and returns a presigned GET for every file in it. A share link to a
//! folder downloads the same way, through its own request (see `shares`).

#[cfg(any(feature = "hydrate", test))]
mod archive;
mod button;
mod job;
#[cfg(feature = "hydrate")]
mod run;
pub use crate::walk::{
    entry_name, Skipped, ZipBatch, ZipFile, ITEMS_PER_REQUEST, PAGE_BYTES, PAGE_FILES,
};
pub use button::ZipButton;
pub use job::Pages;
use leptos::prelude::*;

use crate::error::AppError;

/// The largest archive a browser without a streaming file API keeps in memory.
pub const MEMORY_LIMIT: u64 = 2 << 30;

/// The next page of a zip of `items` (keys, and folders ending in `/`, all under `folder`):
/// `token` continues `items[0]`, a folder walked partly by the last request.
#[server(endpoint = "zip_page", input = server_fn::codec::Json)]
pub async fn zip_page(
    connection: i64,
    bucket: String,
    folder: String,
    items: Vec<String>,
    token: Option<String>,
) -> Result<ZipBatch, AppError> {
    crate::call::signed_in(async |cx| {
        let here = crate::walk::ssr::Here {
            state: &cx.state,
            user: cx.user.id,
            connection,
            bucket: &bucket,
            folder: &folder,
            shared: false,
        };
        crate::walk::ssr::page(&here, &items, token).await
    })
    .await
}

/// The archive's file name: the folder's name, or the bucket's at its root.
pub fn archive_name(bucket: &str, folder: &str) -> String {
    let last = folder
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let name = match last.is_empty() {
        true => bucket,
        false => last,
    };
    // Characters no file system takes in a name become `_`.
    let safe: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    format!("{safe}.zip")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_are_named_after_the_folder() {
        assert_eq!(archive_name("bucket", ""), "bucket.zip");
        assert_eq!(archive_name("bucket", "a/2024: q1/"), "2024_ q1.zip");
    }
}
