//! Managing objects in place: create a folder, delete objects, selections and whole folders,
//! and copy, move or rename objects and folders. S3 does the work (CopyObject, DeleteObjects);
//! no object's bytes reach Crossview.

mod editors;
mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;
mod toolbar;

pub use editors::{MetadataEditor, TagsEditor};
use leptos::{prelude::*, server_fn::codec::Json};
pub use pages::{ObjectActions, Versions};
use serde::{Deserialize, Serialize};
pub use toolbar::{FolderActions, FolderState};

#[cfg(feature = "ssr")]
use crate::call::{self, for_key};
use crate::{error::AppError, location};

/// What a bulk action did: how many keys it handled, and each key that failed with the reason.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub done: u64,
    pub failed: Vec<(String, String)>,
}

/// How many keys a folder holds, counted up to a limit (a count of a huge folder would cost a
/// listing call per 1000 keys).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub keys: u64,
    pub more: bool,
}

/// S3's limit on an object's tags.
pub const MAX_TAGS: usize = 10;

/// What an object says about itself besides its bytes and tags: the headers S3 serves it with,
/// its user metadata (`x-amz-meta-…`) and its storage class. Empty text: not set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub content_type: String,
    pub cache_control: String,
    pub content_disposition: String,
    pub content_encoding: String,
    pub content_language: String,
    pub expires: String,
    pub user: Vec<(String, String)>,
    pub storage_class: String,
}

impl Metadata {
    /// The headers, by their HTTP names.
    pub fn headers(&self) -> [(&'static str, &str); 6] {
        [
            ("Content-Type", &self.content_type),
            ("Cache-Control", &self.cache_control),
            ("Content-Disposition", &self.content_disposition),
            ("Content-Encoding", &self.content_encoding),
            ("Content-Language", &self.content_language),
            ("Expires", &self.expires),
        ]
    }

    /// Everything set, as name/value pairs (user metadata as `x-amz-meta-<name>`).
    pub fn pairs(&self) -> Vec<(String, String)> {
        let headers = self
            .headers()
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()));
        let user = self
            .user
            .iter()
            .map(|(n, v)| (format!("x-amz-meta-{}", n.to_ascii_lowercase()), v.clone()));
        let class = std::iter::once(("Storage class".to_owned(), self.storage_class.clone()));
        headers
            .chain(user)
            .chain(class)
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }

    /// This metadata with `patch`'s set fields over it (a bulk edit): each header `patch` gives
    /// replaces this one, each of its user metadata names is added or replaced (names compared
    /// as S3 does, without case), its storage class replaces this one. What `patch` leaves
    /// empty stays as it is.
    pub fn patched(&self, patch: &Metadata) -> Metadata {
        let pick = |mine: &String, given: &String| match given.trim() {
            "" => mine.clone(),
            given => given.to_owned(),
        };
        let mut user = self.user.clone();
        for (name, value) in &patch.user {
            user.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            user.push((name.clone(), value.clone()));
        }
        Metadata {
            content_type: pick(&self.content_type, &patch.content_type),
            cache_control: pick(&self.cache_control, &patch.cache_control),
            content_disposition: pick(&self.content_disposition, &patch.content_disposition),
            content_encoding: pick(&self.content_encoding, &patch.content_encoding),
            content_language: pick(&self.content_language, &patch.content_language),
            expires: pick(&self.expires, &patch.expires),
            user,
            storage_class: pick(&self.storage_class, &patch.storage_class),
        }
    }

    /// What a HeadObject says.
    #[cfg(feature = "ssr")]
    pub fn of_head(head: &aws_sdk_s3::operation::head_object::HeadObjectOutput) -> Metadata {
        let text = |value: Option<&str>| value.unwrap_or_default().to_owned();
        let mut user: Vec<(String, String)> = head
            .metadata()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        user.sort();
        Metadata {
            content_type: text(head.content_type()),
            cache_control: text(head.cache_control()),
            content_disposition: text(head.content_disposition()),
            content_encoding: text(head.content_encoding()),
            content_language: text(head.content_language()),
            expires: text(head.expires_string()),
            user,
            storage_class: head
                .storage_class()
                .map_or("STANDARD", |c| c.as_str())
                .to_owned(),
        }
    }
}

/// One version of an object (a versioned bucket keeps every one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub id: String,
    pub size: i64,
    /// RFC 3339, UTC.
    pub last_modified: Option<String>,
    pub latest: bool,
    /// A delete marker: the object was deleted in this version.
    pub deleted: bool,
}

/// An object's versions, newest first (empty when the bucket was never versioned).
#[server(endpoint = "versions", input = Json)]
pub async fn versions(
    connection: i64,
    bucket: String,
    key: String,
) -> Result<Vec<Version>, AppError> {
    for_key(connection, &bucket, &key, async |target| {
        ssr::versions(target).await
    })
    .await
}

/// Makes an old version current again: S3 copies it over the object (a new version; nothing
/// older is lost).
#[server(endpoint = "version_restore", input = Json)]
pub async fn restore_version(
    connection: i64,
    bucket: String,
    key: String,
    version: String,
) -> Result<(), AppError> {
    for_key(connection, &bucket, &key, async |target| {
        ssr::restore_version(target, &version).await
    })
    .await
}

/// Creates `name/` in `prefix` (a zero-byte marker, as the S3 console does) and opens it.
#[server(endpoint = "folder_create")]
pub async fn create_folder(
    connection: i64,
    bucket: String,
    prefix: String,
    name: String,
) -> Result<(), AppError> {
    call::form(location::folder_href(connection, &bucket, &prefix))
        .keep("folder", &name)
        .signed_in(async |cx| {
            let folder =
                ssr::create_folder(&cx.state, cx.user.id, connection, &bucket, &prefix, &name)
                    .await?;
            call::redirect(&location::folder_href(connection, &bucket, &folder));
            Ok(())
        })
        .await
}

/// Counts the keys under a folder (for the confirmation before deleting it).
#[server(endpoint = "folder_count", input = Json)]
pub async fn count_folder(
    connection: i64,
    bucket: String,
    folder: String,
) -> Result<Count, AppError> {
    call::signed_in(async |cx| {
        ssr::count(&cx.state, cx.user.id, connection, &bucket, &folder).await
    })
    .await
}

/// Deletes objects and whole folders chosen in the folder `within`. A folder is deleted only
/// when `confirm` repeats its name (a typed confirmation); keys are deleted 1000 at a time.
#[server(endpoint = "objects_delete", input = Json)]
pub async fn delete(
    connection: i64,
    bucket: String,
    within: String,
    keys: Vec<String>,
    folders: Vec<String>,
    confirm: String,
) -> Result<Report, AppError> {
    call::signed_in(async |cx| {
        let chosen = ssr::Chosen {
            within: &within,
            keys: &keys,
            folders: &folders,
        };
        ssr::delete(&cx.state, cx.user.id, connection, &bucket, chosen, &confirm).await
    })
    .await
}

/// Copies or moves an object (`from` a key) or a folder (`from` ending in `/`) to `to` in the
/// same bucket. A move deletes each source only once its copy exists.
#[server(endpoint = "objects_copy", input = Json)]
pub async fn copy(
    connection: i64,
    bucket: String,
    from: String,
    to: String,
    remove_source: bool,
) -> Result<Report, AppError> {
    call::signed_in(async |cx| {
        let (user, state) = (cx.user.id, &cx.state);
        ssr::copy(state, user, connection, &bucket, &from, &to, remove_source).await
    })
    .await
}

/// Replaces an object's tags (none: removes them all).
#[server(endpoint = "object_tags", input = Json)]
pub async fn set_tags(
    connection: i64,
    bucket: String,
    key: String,
    tags: Vec<(String, String)>,
) -> Result<(), AppError> {
    for_key(connection, &bucket, &key, async |target| {
        ssr::set_tags(target, tags).await
    })
    .await
}

/// Replaces an object's metadata and storage class; its bytes and tags stay.
#[server(endpoint = "object_metadata", input = Json)]
pub async fn set_metadata(
    connection: i64,
    bucket: String,
    key: String,
    metadata: Metadata,
) -> Result<(), AppError> {
    for_key(connection, &bucket, &key, async |target| {
        ssr::set_metadata(target, metadata).await
    })
    .await
}

/// Sets what `patch` gives on an object (a bulk edit, object by object): the rest of its
/// metadata, its tags and its bytes stay.
#[server(endpoint = "object_metadata_patch", input = Json)]
pub async fn patch_metadata(
    connection: i64,
    bucket: String,
    key: String,
    patch: Metadata,
) -> Result<(), AppError> {
    for_key(connection, &bucket, &key, async |target| {
        ssr::patch_metadata(target, patch).await
    })
    .await
}

/// A folder name typed by a user: one path segment, not empty.
pub fn valid_folder_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('/')
        && name.len() <= 1024
        && !name.chars().any(char::is_control)
}

/// What a user must type to delete these folders: the folder's name, or for several, how many.
pub fn confirmation_text(within: &str, folders: &[String]) -> String {
    match folders {
        // The folder itself: everything in it, on every page.
        [one] if one == within && within.is_empty() => "everything in this bucket".to_owned(),
        [one] if one == within => format!(
            "everything in {}",
            location::name_in(one, location::folder_of(within)).trim_end_matches('/')
        ),
        [one] => location::name_in(one, within)
            .trim_end_matches('/')
            .to_owned(),
        many => format!("{} folders", many.len()),
    }
}

/// Where `key` goes when what is under `from` moves to `to` (both folders, or both keys).
pub fn destination(key: &str, from: &str, to: &str) -> String {
    format!("{to}{}", key.strip_prefix(from).unwrap_or(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_one_segment() {
        assert!(valid_folder_name("2024 reports ✓"));
        for bad in ["", "a/b", "tab\there"] {
            assert!(!valid_folder_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_patch_sets_what_it_gives_and_keeps_the_rest() {
        let pairs = |p: &[(&str, &str)]| {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let object = Metadata {
            content_type: "text/plain".into(),
            cache_control: "no-cache".into(),
            user: pairs(&[("owner", "finance"), ("review", "no")]),
            storage_class: "STANDARD".into(),
            ..Metadata::default()
        };
        let patch = Metadata {
            cache_control: "max-age=60".into(),
            content_type: "  ".into(),
            user: pairs(&[("Review", "yes"), ("team", "ops")]),
            ..Metadata::default()
        };
        assert_eq!(
            object.patched(&patch),
            Metadata {
                content_type: "text/plain".into(),
                cache_control: "max-age=60".into(),
                user: pairs(&[("owner", "finance"), ("Review", "yes"), ("team", "ops")]),
                storage_class: "STANDARD".into(),
                ..Metadata::default()
            }
        );
    }

    #[test]
    fn moved_keys_keep_their_place_below_the_folder() {
        assert_eq!(destination("a/b/c.txt", "a/", "z/y/"), "z/y/b/c.txt");
        assert_eq!(destination("a/x", "a/x", "a/renamed"), "a/renamed");
    }
}
