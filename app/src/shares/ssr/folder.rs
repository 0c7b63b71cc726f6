//! A link to a folder: a read-only listing of what is under it (a page a request, nothing above
//! it, no other bucket), each file's download, and a zip of all of it. Every request passes the
//! link's rules ([`gate`]) and assumes the owner's role afresh, narrowed to the folder: listing
//! under the folder shown (nothing above it), reading the one file, or reading what the zip's
//! page names.

use serde_json::json;

use super::open::{gate, give_back, take_downloads, Holder, Link};
use crate::{
    aws::{access::Role, region::folder_page, Scope, MAX_KEY_BYTES},
    error::AppError,
    format::rfc3339_from_aws,
    shares::{SharedEntry, SharedListing, FOLDER_PAGE},
    state::AppState,
    walk::{self, ZipBatch},
};

/// Gives a folder link's password once (a file link's too): the caller keeps in the browser's
/// session that it was given. Wrong guesses are counted and audited as on any link.
pub async fn unlock(state: &AppState, token: &str, holder: &Holder<'_>) -> Result<i64, AppError> {
    gate(
        state,
        token,
        holder,
        json!({ "unlock": true }),
        async |link| Ok(link.id),
    )
    .await
}

/// The page of the folder's listing at `at` (`""`, or a folder below the link's, ending in `/`),
/// from S3's continuation `after`.
pub async fn listing(
    state: &AppState,
    token: &str,
    holder: &Holder<'_>,
    at: &str,
    after: Option<String>,
) -> Result<SharedListing, AppError> {
    below(at, true)?;
    gate(state, token, holder, json!({ "list": at }), async |link| {
        let base = folder_of(link)?;
        let prefix = base.to_owned() + at;
        let scope = Scope::ListBucket {
            bucket: link.bucket.clone(),
            prefix: prefix.clone(),
        };
        let role = Role::load(state, link.owner_id, link.connection_id).await?;
        let (role, assumed) = role.assume_shared(state, link.owner_id, &scope).await?;
        let arn = role.bucket_arn(&link.bucket);
        let out = folder_page(
            state,
            &assumed,
            (&link.bucket, &arn),
            &prefix,
            FOLDER_PAGE,
            after,
        )
        .await?;
        let name = |key: &str| key.strip_prefix(base).unwrap_or(key).to_owned();
        Ok(SharedListing {
            at: at.to_owned(),
            folders: out
                .common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(name))
                .collect(),
            files: out
                .contents()
                .iter()
                .filter_map(|o| Some((o.key()?, o)))
                // A zero-byte key ending in `/` is a folder marker, not a file.
                .filter(|(key, o)| !(key.ends_with('/') && o.size().unwrap_or_default() == 0))
                .map(|(key, o)| SharedEntry {
                    name: name(key),
                    size: o.size().unwrap_or_default(),
                    modified: o.last_modified().and_then(rfc3339_from_aws),
                })
                .collect(),
            next: out.next_continuation_token().map(str::to_owned),
        })
    })
    .await
}

/// A presigned download of `file` (a key below the link's folder, as its listing names it):
/// one download taken from a counting link.
pub async fn file(
    state: &AppState,
    token: &str,
    holder: &Holder<'_>,
    file: &str,
) -> Result<String, AppError> {
    below(file, false)?;
    gate(
        state,
        token,
        holder,
        json!({ "file": file }),
        async |link| {
            let key = folder_of(link)?.to_owned() + file;
            let counted = take_downloads(state, link, 1).await?;
            let url = link.target(state, &key)?.download_url(None).await;
            if url.is_err() {
                give_back(state, link, counted).await?;
            }
            url
        },
    )
    .await
}

/// The next page of a zip of `items` (files and folders below the link's folder, as its listing
/// names them; `after` continues the first), signed as for the owner's own zip. Each file
/// signed is a download taken from a counting link.
pub async fn zip(
    state: &AppState,
    token: &str,
    holder: &Holder<'_>,
    items: &[String],
    after: Option<String>,
) -> Result<ZipBatch, AppError> {
    for item in items {
        below(item, item.is_empty() || item.ends_with('/'))?;
    }
    let detail = json!({ "zip": items.len() });
    gate(state, token, holder, detail, async |link| {
        let folder = folder_of(link)?;
        let items: Vec<String> = items.iter().map(|i| folder.to_owned() + i).collect();
        let after = after.map(|a| folder.to_owned() + &a);
        let here = walk::ssr::Here {
            state,
            user: link.owner_id,
            connection: link.connection_id,
            bucket: &link.bucket,
            folder,
            shared: true,
        };
        let mut page = walk::ssr::page(&here, &items, after).await?;
        let signed = page.files.iter().filter(|f| f.url.is_some()).count();
        take_downloads(state, link, signed as i32).await?;
        // The browser names what it continues, and what it shows, below the link's folder.
        let below_folder = |key: &mut String| {
            if let Some(rest) = key.strip_prefix(folder) {
                *key = rest.to_owned();
            }
        };
        page.token.iter_mut().for_each(below_folder);
        page.files.iter_mut().for_each(|f| below_folder(&mut f.key));
        page.skipped
            .iter_mut()
            .for_each(|s| below_folder(&mut s.key));
        Ok(page)
    })
    .await
}

/// The link's folder (its key, ending in `/`); a link to one object has none.
fn folder_of(link: &Link) -> Result<&str, AppError> {
    match link.folder() {
        true => Ok(&link.key),
        false => Err(AppError::NotFound),
    }
}

/// A path below a link's folder as a visitor sends it: within S3's key length, not absolute, a
/// folder (`""` or ending in `/`) where `folder`, else a file's name.
fn below(path: &str, folder: bool) -> Result<(), AppError> {
    let shaped = match folder {
        true => path.is_empty() || path.ends_with('/'),
        false => !path.is_empty() && !path.ends_with('/'),
    };
    match shaped && path.len() <= MAX_KEY_BYTES && !path.starts_with('/') {
        true => Ok(()),
        false => Err(AppError::KeyInvalid),
    }
}
