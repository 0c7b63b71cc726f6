//! Browsing: a connection's buckets, a bucket's folders and objects one page at a time, and an
//! object's details. Every call assumes the connection's role afresh, narrowed to the one bucket
//! (or key) and the actions it needs.

mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
pub use pages::{BrowsePage, BucketsPage};
use serde::{Deserialize, Serialize};

pub use crate::iam::ReadOnly;
#[cfg(feature = "ssr")]
use crate::{call, location};
use crate::{error::AppError, iam::Reach, objects::Metadata};

/// Entries a folder page shows unless the user picks another size (as AWS's Storage Browser).
pub const PAGE_SIZE: i32 = 100;
/// The sizes a user may pick; the largest is S3's own maximum, so a page is one ListObjectsV2.
pub const PAGE_SIZES: [i32; 4] = [100, 250, 500, 1000];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    pub name: String,
    pub region: Option<String>,
    /// RFC 3339, UTC.
    pub created: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketPage {
    pub connection: String,
    /// One page of ListBuckets; empty when the role may not list buckets.
    pub buckets: Vec<Bucket>,
    pub next: Option<String>,
    /// The role lacks `s3:ListAllMyBuckets`: only buckets added by name can be shown.
    pub list_denied: bool,
    /// Buckets the user added by name to this connection.
    pub added: Vec<Bucket>,
    /// A connection restricted to locations (or shared with the user at some): those, instead
    /// of the account's buckets.
    pub locations: Option<Vec<Reach>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectEntry {
    pub key: String,
    pub size: i64,
    /// RFC 3339, UTC.
    pub last_modified: Option<String>,
    pub storage_class: Option<String>,
}

/// One page of a folder: sub-folders (CommonPrefixes) and objects, as S3 returned them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    pub connection: String,
    pub folders: Vec<String>,
    pub objects: Vec<ObjectEntry>,
    /// The opaque ContinuationToken of the next page.
    pub next: Option<String>,
    /// The location this folder is in, on a connection restricted to locations: nothing above
    /// its prefix is reachable, and a read-only one offers no changes.
    pub within: Option<Reach>,
    /// Why nothing may be changed here through this connection, if so.
    pub read_only: Option<ReadOnly>,
}

/// Why a folder or an object offers no change, if it does not: the connection is read-only, the
/// location it is in is, for this user, or the connection check found the role may not write
/// there. Shown beside the actions it disables.
pub fn unchangeable(read_only: Option<ReadOnly>, within: Option<&Reach>) -> Option<&'static str> {
    match (read_only, within) {
        (Some(ReadOnly::Chosen), _) => Some("This connection is read-only"),
        (_, Some(w)) if !w.writable => Some("This location is read-only for you"),
        (Some(ReadOnly::Learned), _) => {
            Some("The last connection check found that this role may not write here")
        }
        _ => None,
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectDetails {
    pub connection: String,
    pub bucket: String,
    pub key: String,
    pub size: i64,
    /// Its headers, user metadata and storage class.
    pub meta: Metadata,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub encryption: Option<String>,
    pub kms_key_id: Option<String>,
    pub version_id: Option<String>,
    /// `None` when the role may not read the object's tags.
    pub tags: Option<Vec<(String, String)>>,
    pub s3_uri: String,
    pub arn: String,
    /// The location the object is in, on a connection restricted to locations.
    pub within: Option<Reach>,
    pub read_only: Option<ReadOnly>,
}

#[server(endpoint = "buckets")]
pub async fn list_buckets(connection: i64, token: Option<String>) -> Result<BucketPage, AppError> {
    call::signed_in(async |cx| ssr::buckets(&cx.state, cx.user.id, connection, token).await).await
}

/// Adds a bucket by name (for roles without `s3:ListAllMyBuckets`), once HeadBucket proves the
/// role can reach it; then opens it.
#[server(endpoint = "bucket_add")]
pub async fn add_bucket(connection: i64, name: String) -> Result<(), AppError> {
    call::form(location::buckets_href(connection))
        .keep("name", &name)
        .signed_in(async |cx| {
            let name = ssr::add_bucket(&cx.state, cx.user.id, connection, &name).await?;
            call::redirect(&location::folder_href(connection, &name, ""));
            Ok(())
        })
        .await
}

#[server(endpoint = "bucket_remove")]
pub async fn remove_bucket(connection: i64, name: String) -> Result<(), AppError> {
    call::form(location::buckets_href(connection))
        .signed_in(async |cx| {
            ssr::remove_bucket(cx.pool(), cx.user.id, connection, &name).await?;
            call::redirect(&location::buckets_href(connection));
            Ok(())
        })
        .await
}

/// One page of a folder. `prefix` is the folder (plus any filter text typed after it); `token`
/// the ContinuationToken of the page wanted, `None` for the first.
#[server(endpoint = "objects")]
pub async fn list_objects(
    connection: i64,
    bucket: String,
    prefix: String,
    token: Option<String>,
    per: Option<i32>,
) -> Result<Listing, AppError> {
    let per = per.unwrap_or(PAGE_SIZE).clamp(1, 1000);
    call::signed_in(async |cx| {
        ssr::objects(
            &cx.state,
            cx.user.id,
            connection,
            &bucket,
            (&prefix, per),
            token,
        )
        .await
    })
    .await
}

#[server(endpoint = "object")]
pub async fn describe_object(
    connection: i64,
    bucket: String,
    key: String,
) -> Result<ObjectDetails, AppError> {
    call::signed_in(async |cx| ssr::details(&cx.state, cx.user.id, connection, &bucket, &key).await)
        .await
}
