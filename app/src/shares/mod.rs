//! Share links: a signed-in user lets anyone with the link download one object until a deadline
//! (at most 7 days). Crossview keeps only a hash of the link's token; each use assumes the role
//! afresh, is audited, and redirects to a short-lived presigned URL. Owners list and revoke them.

mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::{prelude::*, server_fn::codec::Json};
pub use pages::{ShareForm, SharePage, SharesPage};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::call::{self, for_key};
use crate::error::AppError;

/// The longest a share link may live: 7 days.
pub const MAX_HOURS: u32 = 7 * 24;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareLink {
    pub id: i64,
    pub connection: i64,
    pub bucket: String,
    pub key: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
    pub created_at: String,
    pub revoked: bool,
    pub expired: bool,
    /// The owner is told when it is opened.
    pub notify: bool,
}

/// What a share link's landing page shows to anyone who holds the link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedFile {
    pub name: String,
    /// As it was when shared; `None` for links made before this was kept.
    pub size: Option<i64>,
    pub content_type: Option<String>,
    /// The email of who shared it.
    pub shared_by: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
    pub status: LinkStatus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkStatus {
    Live,
    Revoked,
    Expired,
}

/// The landing page of a share link (`/s/<token>`): anyone may ask, holding the token. A link
/// that no longer works answers 410 with what it was.
#[server(endpoint = "share_landing")]
pub async fn share_landing(token: String) -> Result<SharedFile, AppError> {
    call::anyone(async |state| {
        let address = crate::auth::ssr::client_address(&state.config).await;
        let file = ssr::landing(&state, &token, address.as_deref()).await?;
        if file.status != LinkStatus::Live {
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                res.set_status(http::StatusCode::GONE);
            }
        }
        Ok(file)
    })
    .await
}

/// A link just made: its path (the token is shown this once) and deadline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewShare {
    pub path: String,
    pub expires_at: String,
}

/// Makes a link to `key` that works for `hours` (1 to 168), once the role proves it may read it;
/// `notify`: tell the owner when it is opened.
#[server(endpoint = "share_create", input = Json)]
pub async fn create_share(
    connection: i64,
    bucket: String,
    key: String,
    hours: u32,
    #[server(default)] notify: bool,
) -> Result<NewShare, AppError> {
    for_key(connection, &bucket, &key, async |target| {
        crate::call::fresh().await?;
        ssr::create(target, hours, notify).await
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
