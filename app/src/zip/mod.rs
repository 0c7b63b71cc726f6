//! Download a folder, or a selection of objects and folders, as one zip. The browser builds the
//! archive as the bytes arrive (stored, not compressed: S3 objects are mostly compressed
//! already, and storing keeps the browser's CPU free), from presigned GETs straight to S3, and
//! writes it to disk as it goes where it can. The server only walks and signs: each request
//! lists a page of what was chosen (one fresh assumption, narrowed to what it names, audited as
//! `object.zip`) and returns a presigned GET for every file in it.

#[cfg(any(feature = "hydrate", test))]
mod archive;
mod button;
mod job;
#[cfg(feature = "hydrate")]
mod run;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use button::ZipButton;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Files signed per request at most: one listing page.
pub const PAGE_FILES: usize = 1000;
/// Bytes signed per request, beyond which it stops at the next file: a page is fetched within
/// its URLs' lifetime on any link faster than about 1 MB/s.
pub const PAGE_BYTES: i64 = 512 << 20;
/// Chosen entries sent per request at most (the rest wait for the next one).
pub const ITEMS_PER_REQUEST: usize = 50;
/// The largest archive a browser without a streaming file API keeps in memory.
pub const MEMORY_LIMIT: u64 = 2 << 30;

/// One object to put in the archive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZipFile {
    pub key: String,
    /// Its path in the archive: the key below the folder the download started in.
    pub name: String,
    pub size: i64,
    /// Unix seconds.
    pub modified: Option<i64>,
    /// A presigned GET (no URL for a folder marker: it becomes a folder entry).
    pub url: Option<String>,
}

/// An object left out, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub key: String,
    pub why: String,
}

/// One request's answer: the files of this page, what was left out, how many of the chosen
/// entries sent are finished, and where the unfinished one (the first not done, a folder)
/// continues.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZipBatch {
    pub files: Vec<ZipFile>,
    pub skipped: Vec<Skipped>,
    pub done: usize,
    pub token: Option<String>,
}

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
        let here = ssr::Here {
            state: &cx.state,
            user: cx.user.id,
            connection,
            bucket: &bucket,
            folder: &folder,
        };
        ssr::page(&here, &items, token).await
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

/// A key's path in the archive: below `folder`, never absolute, never climbing out (`..` and
/// `.` parts and empty ones are dropped; the zip library normalises the rest).
pub fn entry_name(folder: &str, key: &str) -> String {
    let below = key.strip_prefix(folder).unwrap_or(key);
    let trailing = key.ends_with('/');
    let parts: Vec<&str> = below
        .split('/')
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .collect();
    let mut name = parts.join("/");
    if name.is_empty() {
        name = "_".into();
    }
    if trailing {
        name.push('/');
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_below_the_folder() {
        assert_eq!(
            entry_name("photos/", "photos/2024/a b+c.jpg"),
            "2024/a b+c.jpg"
        );
        assert_eq!(entry_name("", "東京/😀.txt"), "東京/😀.txt");
        assert_eq!(entry_name("p/", "p/../../etc/passwd"), "etc/passwd");
        assert_eq!(entry_name("p/", "p//a/./b"), "a/b");
        assert_eq!(entry_name("p/", "p/sub/"), "sub/");
        assert_eq!(entry_name("p/", "p/"), "_/");
    }

    #[test]
    fn archives_are_named_after_the_folder() {
        assert_eq!(archive_name("bucket", ""), "bucket.zip");
        assert_eq!(archive_name("bucket", "a/2024: q1/"), "2024_ q1.zip");
    }
}
