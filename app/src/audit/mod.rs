//! The audit trail: every role assumption, every connection change and every admin action,
//! append-only and hash-chained. What was done and how it ended are enums, stored as their
//! stable names (`upload.start`, `ok`).

mod filter;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use filter::{AuditFilter, CLASSES};
use serde::{Deserialize, Serialize};

/// One row of the trail as admins see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: Option<String>,
    pub connection_id: Option<i64>,
    pub account_id: Option<String>,
    pub action: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub outcome: String,
    /// `ok`, `refused` or `failed`.
    pub class: String,
    pub aws_request_id: Option<String>,
    /// The location a request was fenced to (`s3://bucket/prefix`), and the grant it used.
    pub location: Option<String>,
    pub grant: Option<i64>,
    /// JSON text, for humans.
    pub detail: String,
}

/// One page of a search, newest first, and where the next one starts (a cursor for `before`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditEntry>,
    pub next: Option<String>,
}

/// What walking the chain found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    /// Rows walked, over every shard.
    pub rows: u64,
    /// Shards walked (every head, open or closed).
    pub shards: u32,
    /// The oldest row walked (after the archived months); 0 when none was.
    pub first_id: i64,
    /// The first break, in words, with the row it is at; `None` if the chain holds.
    pub problem: Option<ChainBreak>,
    /// The newest row's id, and the heads' Merkle root (hex; see `audit::ssr::digest`): quote
    /// them to pin the trail as it is now.
    pub last_id: i64,
    pub root: String,
    /// Heads pinned by digests (see `audit::ssr::digest`) whose rows the walk compared.
    pub pins_checked: u64,
}

/// The first place where the chain does not hold. Rows are named by id; each shard is a chain
/// of its own, so "follows" means in the same shard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ChainBreak {
    #[error("row {id} was altered: its content does not match its hash")]
    Altered { id: i64 },
    #[error("{rows} rows were removed between row {after} and row {before}")]
    Removed { after: i64, before: i64, rows: i64 },
    #[error("row {id} was inserted out of order (after row {after})")]
    OutOfOrder { id: i64, after: i64 },
    #[error("row {id} does not follow row {after}: a row was replaced or inserted")]
    Unlinked { id: i64, after: i64 },
    #[error(
        "the last rows were removed: the chain's head is row {head}, the trail ends at row {last}"
    )]
    Truncated { head: i64, last: i64 },
    #[error("row {id} is in shard {shard}, which has no head: it was not appended")]
    Stray { id: i64, shard: i16 },
    #[error("row {id} is not the row the digest of {at} pinned: the trail was rewritten since")]
    Rewritten { id: i64, at: String },
    #[error("the rows after row {after} up to row {to} were removed since the digest of {at}")]
    RemovedSince { after: i64, to: i64, at: String },
}

/// Declares [`Activity`] from one list: each action, the name stored for it, and whether it
/// assumes the connection's role. A name, once stored, is in hashed rows for good: renaming one
/// means adding its old name to [`LEGACY_NAMES`].
macro_rules! activities {
    ($($variant:ident => $name:literal, $assumes:literal;)*) => {
        /// What was done: for an assumption, what the credentials were for.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Activity {
            $($variant,)*
        }

        impl Activity {
            /// Every action, in the order the search form lists them.
            pub const ALL: &'static [Activity] = &[$(Activity::$variant,)*];

            /// The name stored in the trail.
            pub fn name(self) -> &'static str {
                match self {
                    $(Activity::$variant => $name,)*
                }
            }

            /// Whether doing it assumes the connection's role (what the admin pages count).
            pub fn assumes_role(self) -> bool {
                match self {
                    $(Activity::$variant => $assumes,)*
                }
            }
        }
    };
}

activities! {
    Verify => "connection.verify", true;
    VerifyWithoutExternalId => "connection.verify_without_external_id", true;
    VerifyWrongExternalId => "connection.verify_wrong_external_id", true;
    WriteProbe => "connection.probe_writes", true;
    VerifyNextExternalId => "connection.verify_next_external_id", true;
    VerifyRetiredExternalId => "connection.verify_retired_external_id", true;
    Doctor => "connection.doctor", true;
    CorsFix => "bucket.cors_fix", true;
    ListBuckets => "bucket.list", true;
    ListObjects => "object.list", true;
    Details => "object.details", true;
    Download => "object.download", true;
    Preview => "object.preview", true;
    Upload => "object.upload", true;
    UploadCheck => "upload.check", true;
    UploadStart => "upload.start", true;
    UploadParts => "upload.parts", true;
    UploadComplete => "upload.complete", true;
    UploadAbort => "upload.abort", true;
    UploadsList => "upload.list", true;
    FolderCreate => "folder.create", true;
    FolderCount => "folder.count", true;
    Search => "object.search", true;
    Delete => "object.delete", true;
    Copy => "object.copy", true;
    Move => "object.move", true;
    Versions => "object.versions", true;
    VersionRestore => "version.restore", true;
    TagsEdit => "object.tags", true;
    MetadataEdit => "object.metadata", true;
    Zip => "object.zip", true;
    ShareCreate => "share.create", true;
    ShareOpen => "share.open", true;
    ShareRevoke => "share.revoke", false;
    ShareExpiry => "share.expiry", false;
    BucketAdd => "bucket.add", false;
    BucketRemove => "bucket.remove", false;
    ConnectionCreate => "connection.create", false;
    ConnectionSetRole => "connection.set_role", false;
    ExternalIdRenew => "connection.external_id_renew", false;
    ExternalIdRotateStart => "connection.external_id_rotate_start", false;
    ExternalIdRotate => "connection.external_id_rotate", false;
    ExternalIdRotateCancel => "connection.external_id_rotate_cancel", false;
    ConnectionSetEndpoints => "connection.set_endpoints", false;
    ConnectionRename => "connection.rename", false;
    ConnectionSetAccess => "connection.set_access", false;
    ConnectionDelete => "connection.delete", false;
    AdminGrant => "admin.grant", false;
    AdminRevoke => "admin.revoke", false;
    UserDisable => "user.disable", false;
    UserEnable => "user.enable", false;
    ConnectionDisable => "connection.disable", false;
    ConnectionEnable => "connection.enable", false;
    ConnectionRecheck => "connection.recheck", false;
    LocationAdd => "location.add", false;
    LocationRemove => "location.remove", false;
    GrantCreate => "grant.create", false;
    GrantRevoke => "grant.revoke", false;
    GrantAccept => "grant.accept", false;
    GrantDecline => "grant.decline", false;
    PasswordResetIssue => "password.reset_issue", false;
    PasswordReset => "password.reset", false;
    SignIn => "account.sign_in", false;
    FactorAdd => "factor.add", false;
    FactorRemove => "factor.remove", false;
    RecoveryCodesRenew => "recovery_codes.renew", false;
    SessionEnd => "session.end", false;
    SsoLink => "sso.link", false;
    AuditExport => "audit.export", false;
    AuditVerify => "audit.verify", false;
    AuditArchive => "audit.archive", false;
    AuditShards => "audit.shards", false;
}

/// The names the trail stored before every action was named `noun.verb`, with today's name of
/// each. Old rows keep their bytes (they are hashed); pages show and search them by the new
/// name through this table, and the export carries them as stored.
pub const LEGACY_NAMES: &[(&str, &str)] = &[
    ("verify", "connection.verify"),
    (
        "verify_without_external_id",
        "connection.verify_without_external_id",
    ),
    (
        "verify_wrong_external_id",
        "connection.verify_wrong_external_id",
    ),
    ("list_buckets", "bucket.list"),
    ("list_objects", "object.list"),
    ("details", "object.details"),
    ("download", "object.download"),
    ("preview", "object.preview"),
    ("upload", "object.upload"),
    ("delete", "object.delete"),
    ("copy", "object.copy"),
    ("move", "object.move"),
    ("versions", "object.versions"),
    ("sign_in", "account.sign_in"),
];

/// Today's name for an action name found in the trail.
pub fn current_name(stored: &str) -> &str {
    LEGACY_NAMES
        .iter()
        .find(|(old, _)| *old == stored)
        .map_or(stored, |(_, new)| new)
}

/// Every name rows of the action named `name` may carry: its own, and its old one if any.
pub fn stored_names(name: &str) -> Vec<String> {
    std::iter::once(name)
        .chain(
            LEGACY_NAMES
                .iter()
                .filter(|(_, new)| *new == name)
                .map(|(old, _)| *old),
        )
        .map(str::to_owned)
        .collect()
}

/// How it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Some keys of a bulk action failed, others succeeded.
    Partial,
    /// Every key of a bulk action failed.
    Failed,
    /// A share link revoked, or past its deadline. (Tokens that match no link are counted, not
    /// logged: older rows name them `unknown`.)
    Revoked,
    Expired,
    /// Refused or failed with this error: an `AppError` or `AwsProblem` code.
    Error(String),
}

/// The one label pages give an outcome's class.
pub fn class_label(class: &str) -> &'static str {
    match class {
        "ok" => "OK",
        "refused" => "Refused",
        _ => "Failed",
    }
}

/// Error codes that mean "refused" (by Crossview, AWS or the customer's policy) rather than
/// "failed". The migration's `audit_class_of` holds the same list for older rows.
const REFUSALS: &[&str] = &[
    "unknown",
    "Unauthorized",
    "Forbidden",
    "NotYourConnection",
    "AccountDisabled",
    "ConnectionDisabled",
    "RateLimited",
    "TooFast",
    "Denied",
    "EndpointNotAllowed",
    "ConnectionNotVerified",
    "ShareLinkGone",
    "SharePasswordWrong",
    "ShareDownloadsSpent",
    "ShareNetworkRefused",
    "ShareSignIn",
    "ShareNotForYou",
    "TrustDenied",
    "TrustTooOpen",
    "AccountMismatch",
    "KmsDenied",
    "RegionDisabled",
    "UploadTooLarge",
    "UploadTypeRefused",
    "OutsideLocation",
    "ReadOnlyLocation",
    "ReadOnlyConnection",
];

impl Outcome {
    /// `ok`, `refused` or `failed`: what an auditor filters on.
    pub fn class(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Revoked | Outcome::Expired => "refused",
            Outcome::Error(code) if REFUSALS.contains(&code.as_str()) => "refused",
            Outcome::Partial | Outcome::Failed | Outcome::Error(_) => "failed",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
            Outcome::Revoked => "revoked",
            Outcome::Expired => "expired",
            Outcome::Error(code) => code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_named_noun_dot_verb() {
        for activity in Activity::ALL {
            let name = activity.name();
            let (noun, verb) = name.split_once('.').expect(name);
            let word =
                |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            assert!(word(noun) && word(verb), "{name}");
        }
    }

    #[test]
    fn old_names_are_shown_and_searched_under_the_new_ones() {
        let current: Vec<&str> = Activity::ALL.iter().map(|a| a.name()).collect();
        for (old, new) in LEGACY_NAMES {
            assert!(current.contains(new), "{new} names no action");
            assert!(!current.contains(old), "{old} is still stored for new rows");
            assert_eq!(current_name(old), *new);
            assert!(stored_names(new).contains(&old.to_string()));
        }
        assert_eq!(current_name("share.create"), "share.create");
        assert_eq!(stored_names("object.list"), ["object.list", "list_objects"]);
        assert_eq!(stored_names("share.open"), ["share.open"]);
    }
}
