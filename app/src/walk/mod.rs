//! Walking what was chosen of a folder and signing a GET for each file, a page a request: what a
//! zip download is made of, whether the folder is the user's own or reached through a share link.
//! The browser fetches the files straight from S3; nothing of them passes through the server.

#[cfg(feature = "ssr")]
pub mod ssr;

use serde::{Deserialize, Serialize};

/// Files signed per request at most: one listing page.
pub const PAGE_FILES: usize = 1000;
/// Bytes signed per request, beyond which it stops at the next file: a page is fetched within
/// its URLs' lifetime on any link faster than about 1 MB/s.
pub const PAGE_BYTES: i64 = 512 << 20;
/// Chosen entries sent per request at most (the rest wait for the next one).
pub const ITEMS_PER_REQUEST: usize = 50;
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
}
