//! Locations and grants: a connection restricted to some buckets and prefixes (each read-only or
//! read-write), and teammates given some of them without an AWS account of their own. Nothing is
//! stored but the places and who may use them: every request assumes the owner's role afresh
//! with a session policy fenced to the one location it uses (see `aws::scope`), under a session
//! name that names the acting user.

mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
pub use pages::{Invitations, LocationsSection, SharedWithMe};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::call;
use crate::{error::AppError, iam::Reach};

/// The longest prefix a location may have: with it, every session policy stays within AWS's
/// 2,048 characters (see `aws::scope::POLICY_LIMIT`).
pub const MAX_PREFIX: usize = 256;

/// A location of a connection, as its owner (or an administrator) manages it. `prefix` may hold
/// `{user}`, which each user's requests see as their own id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub id: i64,
    pub bucket: String,
    pub prefix: String,
    /// The prefix as the viewer's own requests see it (`{user}` replaced by their id).
    pub yours: String,
    pub writable: bool,
    pub grants: Vec<Grant>,
}

impl Location {
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

/// One teammate's access to one location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub id: i64,
    pub grantee: String,
    /// As granted; it writes only where the location is read-write too.
    pub writable: bool,
    /// RFC 3339, UTC; `None`: until revoked.
    pub expires_at: Option<String>,
    pub created_at: String,
    /// Who made it (their email), for the owner to see.
    pub granted_by: Option<String>,
    /// Whether the grantee accepted it; until then it is an invitation and reaches nothing.
    pub accepted: bool,
    pub expired: bool,
}

/// A connection someone shared with the signed-in user: its name, owner and the places.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shared {
    pub connection: i64,
    pub name: String,
    pub owner: String,
    pub locations: Vec<(Reach, Option<String>)>,
}

/// A grant waiting for the signed-in user to accept or decline it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: i64,
    /// The connection's name, and its owner's email.
    pub name: String,
    pub owner: String,
    pub place: Reach,
    pub until: Option<String>,
}

/// Invitations to the signed-in user's address.
#[server(endpoint = "invitations")]
pub async fn list_invitations() -> Result<Vec<Invitation>, AppError> {
    call::signed_in(async |cx| ssr::invitations(cx.pool(), cx.user.id).await).await
}

/// Accepts (`accept` = "yes") or declines an invitation; back to the home page.
#[server(endpoint = "invitation_answer")]
pub async fn answer_invitation(id: i64, accept: String) -> Result<(), AppError> {
    call::form("/")
        .signed_in(async |cx| {
            ssr::answer(cx.pool(), cx.user.id, id, accept == "yes").await?;
            call::redirect("/");
            Ok(())
        })
        .await
}

/// The connection's locations and their live grants (its owner, or an administrator).
#[server(endpoint = "locations")]
pub async fn list_locations(connection: i64) -> Result<Vec<Location>, AppError> {
    call::signed_in(async |cx| {
        ssr::managed(cx.pool(), cx.user.id, connection).await?;
        ssr::list(cx.pool(), connection, cx.user.id).await
    })
    .await
}

/// Restricts the connection to one more location (the first one restricts it).
#[server(endpoint = "location_add")]
pub async fn add_location(
    connection: i64,
    bucket: String,
    prefix: String,
    mode: String,
    back: String,
) -> Result<(), AppError> {
    let page = pages::back_to(&back, connection);
    call::form(page.clone())
        .keep("bucket", &bucket)
        .keep("prefix", &prefix)
        .signed_in(async |cx| {
            ssr::add(
                cx.pool(),
                cx.user.id,
                connection,
                &bucket,
                &prefix,
                mode == "write",
            )
            .await?;
            call::redirect(&page);
            Ok(())
        })
        .await
}

/// Removes a location, and every grant of it (their links stop working too).
#[server(endpoint = "location_remove")]
pub async fn remove_location(connection: i64, id: i64, back: String) -> Result<(), AppError> {
    let page = pages::back_to(&back, connection);
    call::form(page.clone())
        .signed_in(async |cx| {
            ssr::remove(cx.pool(), cx.user.id, connection, id).await?;
            call::redirect(&page);
            Ok(())
        })
        .await
}

/// Invites `email` to one location, read-only or read-write, optionally until the end of
/// `until` (a date, UTC): it reaches the location once the account with that address accepts.
#[server(endpoint = "grant_create")]
pub async fn create_grant(
    connection: i64,
    location: i64,
    email: String,
    mode: String,
    until: String,
    back: String,
) -> Result<(), AppError> {
    let page = pages::back_to(&back, connection);
    call::form(page.clone())
        .keep("email", &email)
        .fresh()
        .signed_in(async |cx| {
            let grant = ssr::NewGrant {
                location,
                email: &email,
                writable: mode == "write",
                until: &until,
            };
            ssr::grant(&cx.state, cx.user.id, connection, grant).await?;
            call::redirect(&page);
            Ok(())
        })
        .await
}

/// Revokes a grant: the teammate's next request is refused, and links they made die.
#[server(endpoint = "grant_revoke")]
pub async fn revoke_grant(connection: i64, id: i64, back: String) -> Result<(), AppError> {
    let page = pages::back_to(&back, connection);
    call::form(page.clone())
        .signed_in(async |cx| {
            ssr::revoke(cx.pool(), cx.user.id, connection, id).await?;
            call::redirect(&page);
            Ok(())
        })
        .await
}

/// Connections shared with the signed-in user, with the places each reaches.
#[server(endpoint = "shared_with_me")]
pub async fn shared_with_me() -> Result<Vec<Shared>, AppError> {
    call::signed_in(async |cx| ssr::shared_with(cx.pool(), cx.user.id).await).await
}

/// A location's prefix as typed, made canonical: trimmed, a trailing `/` added; `None` when it
/// cannot be one (see [`AppError::LocationInvalid`]).
pub fn canonical_prefix(typed: &str) -> Option<String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Some(String::new());
    }
    let prefix = match typed.ends_with('/') {
        true => typed.to_owned(),
        false => format!("{typed}/"),
    };
    let folders_ok = prefix
        .trim_end_matches('/')
        .split('/')
        .all(|f| !f.is_empty() && f != "." && f != "..");
    let chars_ok = !prefix
        .chars()
        .any(|c| matches!(c, '*' | '?' | '$') || c.is_control());
    (prefix.len() <= MAX_PREFIX && folders_ok && chars_ok).then_some(prefix)
}

#[cfg(test)]
mod tests {
    use super::canonical_prefix;

    #[test]
    fn prefixes_are_folders_without_wildcards() {
        assert_eq!(canonical_prefix(""), Some(String::new()));
        assert_eq!(
            canonical_prefix(" reports/2026 "),
            Some("reports/2026/".into())
        );
        assert_eq!(
            canonical_prefix("uploads/users/{user}/"),
            Some("uploads/users/{user}/".into())
        );
        assert_eq!(
            canonical_prefix("ünï côdé/+ %/"),
            Some("ünï côdé/+ %/".into())
        );
        for bad in [
            "/abs",
            "a//b/",
            "../up/",
            "a/./b",
            "all*/",
            "one?/",
            "${aws:username}/",
        ] {
            assert_eq!(canonical_prefix(bad), None, "{bad}");
        }
        assert_eq!(
            canonical_prefix(&"a".repeat(256)),
            None,
            "257 with its slash"
        );
        assert!(canonical_prefix(&"a".repeat(255)).is_some());
    }
}
