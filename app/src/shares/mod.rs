//! Share links: a signed-in user lets whoever holds the link download one object, until a
//! deadline (at most `SHARE_MAX_DAYS`; none where the deployment allows it), behind a password, a
//! number of downloads, a list of client networks, or a list of people (who sign in to open it)
//! if the owner wants. The link is Crossview's
//! own URL: Crossview keeps only a hash of its token, and each use assumes the role afresh, is
//! audited, and redirects to a presigned URL that lives minutes. Owners list, change the deadline
//! of, and revoke them.

mod folder;
mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use folder::ShareZipPage;
use leptos::{prelude::*, server_fn::codec::Json};
pub use pages::{ShareForm, SharePage, SharesPage};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::call::{self, for_key};
use crate::error::AppError;

/// What a new link asks of whoever holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareRules {
    /// How long it works, in hours; `None`: until revoked (only where the deployment allows it).
    pub hours: Option<u32>,
    /// A password to give before each download (8 to 200 characters).
    pub password: Option<String>,
    /// How many downloads it hands out before it stops.
    pub max_downloads: Option<u32>,
    /// The client networks (CIDR, or single addresses) it opens from; none: anywhere.
    pub networks: Vec<String>,
    /// The email addresses it opens for (the visitor signs in); none: whoever holds it.
    pub people: Vec<String>,
    /// The owner is told when it is opened.
    pub notify: bool,
}

/// How long links may live on this deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkLifetimes {
    pub max_days: u32,
    pub no_expiry: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareLink {
    pub id: i64,
    pub connection: i64,
    pub bucket: String,
    pub key: String,
    /// RFC 3339, UTC; `None`: no deadline.
    pub expires_at: Option<String>,
    pub created_at: String,
    pub revoked: bool,
    pub expired: bool,
    /// The owner is told when it is opened.
    pub notify: bool,
    pub password: bool,
    pub downloads: u32,
    pub max_downloads: Option<u32>,
    pub networks: Vec<String>,
    pub people: Vec<String>,
}

/// What a share link's landing page shows to anyone who holds the link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedFile {
    pub name: String,
    /// A folder: its page lists what is under it.
    pub folder: bool,
    /// As it was when shared; `None` for links made before this was kept.
    pub size: Option<i64>,
    pub content_type: Option<String>,
    /// The email of who shared it.
    pub shared_by: String,
    /// RFC 3339, UTC; `None`: no deadline.
    pub expires_at: Option<String>,
    pub status: LinkStatus,
    /// A password is asked before the download.
    pub password: bool,
    /// Downloads it still hands out, when it counts them.
    pub downloads_left: Option<u32>,
}

/// Entries a folder link's page lists at most.
pub const FOLDER_PAGE: i32 = 200;

/// One page of a shared folder: names below the link's folder, never above it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedListing {
    /// Where in the shared folder this page is: `""`, or a folder below it ending in `/`.
    pub at: String,
    /// Sub-folders, below the link's folder, ending in `/`.
    pub folders: Vec<String>,
    pub files: Vec<SharedEntry>,
    /// S3's continuation token of the next page.
    pub next: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedEntry {
    /// Below the link's folder.
    pub name: String,
    pub size: i64,
    /// RFC 3339, UTC.
    pub modified: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkStatus {
    Live,
    Revoked,
    Expired,
    /// Its downloads are all handed out.
    Spent,
    /// It does not open from the visitor's network.
    Elsewhere,
    /// It opens for named people: the visitor is to sign in.
    SignIn,
    /// It opens for named people, and the visitor signed in as someone else.
    NotForYou,
}

/// The landing page of a share link (`/s/<token>`): anyone may ask, holding the token. A link
/// that no longer works answers 410 with what it was (403 outside its networks or for someone
/// else, 401 for named people until the visitor signs in).
#[server(endpoint = "share_landing")]
pub async fn share_landing(token: String) -> Result<SharedFile, AppError> {
    as_holder(async |state, holder| {
        let file = ssr::landing(state, &token, holder).await?;
        let status = match file.status {
            LinkStatus::Live => None,
            LinkStatus::SignIn => Some(http::StatusCode::UNAUTHORIZED),
            LinkStatus::Elsewhere | LinkStatus::NotForYou => Some(http::StatusCode::FORBIDDEN),
            LinkStatus::Revoked | LinkStatus::Expired | LinkStatus::Spent => {
                Some(http::StatusCode::GONE)
            }
        };
        if let (Some(status), Some(res)) = (status, use_context::<leptos_axum::ResponseOptions>()) {
            res.set_status(status);
        }
        Ok(file)
    })
    .await
}

/// The request's holder of a link: the client's address, who is signed in, the links this
/// browser unlocked; `run` with it.
#[cfg(feature = "ssr")]
async fn as_holder<T>(
    run: impl AsyncFnOnce(&crate::state::AppState, &ssr::Holder<'_>) -> Result<T, AppError>,
) -> Result<T, AppError> {
    call::anyone(async |state| {
        let address = crate::auth::ssr::client_address(&state.config).await;
        let visit = ssr::Visit::current(address).await;
        run(&state, &visit.holder(None)).await
    })
    .await
}

/// A page of a folder link's listing at `at` (below its folder), from `after`.
#[server(endpoint = "share_folder")]
pub async fn share_folder(
    token: String,
    at: String,
    after: Option<String>,
) -> Result<SharedListing, AppError> {
    as_holder(async |state, holder| ssr::folder::listing(state, &token, holder, &at, after).await)
        .await
}

/// The next page of a folder link's zip (see `zip::zip_page`; names below the link's folder).
#[server(endpoint = "share_zip_page", input = Json)]
pub async fn share_zip_page(
    token: String,
    items: Vec<String>,
    after: Option<String>,
) -> Result<crate::walk::ZipBatch, AppError> {
    as_holder(async |state, holder| ssr::folder::zip(state, &token, holder, &items, after).await)
        .await
}

/// A link just made: its path (the token is shown this once), deadline, and its URL as a QR
/// code (SVG, made by the server from the site's public address).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewShare {
    pub path: String,
    pub expires_at: Option<String>,
    pub qr_svg: String,
}

/// Makes a link to `key` under `rules`, once the role proves it may read it.
#[server(endpoint = "share_create", input = Json)]
pub async fn create_share(
    connection: i64,
    bucket: String,
    key: String,
    rules: ShareRules,
) -> Result<NewShare, AppError> {
    for_key(connection, &bucket, &key, async |target| {
        crate::call::fresh().await?;
        ssr::create(target, &rules).await
    })
    .await
}

/// How long links may live here (for the form's choices).
#[server(endpoint = "share_limits")]
pub async fn share_limits() -> Result<LinkLifetimes, AppError> {
    call::signed_in(async |cx| {
        Ok(LinkLifetimes {
            max_days: cx.state.config.share_max_days,
            no_expiry: cx.state.config.share_no_expiry,
        })
    })
    .await
}

/// Gives one of the user's links a new deadline: `hours` from now, or none (where allowed).
#[server(endpoint = "share_expiry")]
pub async fn change_share_expiry(id: i64, hours: String) -> Result<(), AppError> {
    call::form("/shares")
        .signed_in(async |cx| {
            let hours = match hours.as_str() {
                "never" => None,
                h => Some(h.parse().map_err(|_| AppError::ShareLifetime)?),
            };
            ssr::change_expiry(&cx.state, cx.user.id, id, hours).await?;
            call::redirect("/shares");
            Ok(())
        })
        .await
}

/// The signed-in user's links, newest first.
#[server(endpoint = "shares")]
pub async fn list_shares() -> Result<Vec<ShareLink>, AppError> {
    call::signed_in(async |cx| ssr::list(cx.pool(), cx.user.id).await).await
}

/// Revokes one of the user's links: it stops working at once.
#[server(endpoint = "share_revoke")]
pub async fn revoke_share(id: i64) -> Result<(), AppError> {
    call::form("/shares")
        .signed_in(async |cx| {
            ssr::revoke(cx.pool(), cx.user.id, id).await?;
            call::redirect("/shares");
            Ok(())
        })
        .await
}
