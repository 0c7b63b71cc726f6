//! The audit log: every role assumption and every connection change, append-only. What was
//! done and how it ended are enums, stored as their stable names (`upload.start`, `ok`).

#[cfg(feature = "ssr")]
pub mod ssr;

use serde::{Deserialize, Serialize};

/// One row of the log as admins see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: Option<String>,
    pub connection_id: Option<i64>,
    pub action: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub outcome: String,
    pub aws_request_id: Option<String>,
}

/// What was done: for an assumption, what the credentials were for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    Verify,
    VerifyWithoutExternalId,
    VerifyWrongExternalId,
    ListBuckets,
    ListObjects,
    Details,
    Download,
    Preview,
    Upload,
    UploadStart,
    UploadParts,
    UploadComplete,
    UploadAbort,
    FolderCreate,
    FolderCount,
    Delete,
    Copy,
    Move,
    Versions,
    VersionRestore,
    ShareCreate,
    ShareOpen,
    ShareRevoke,
    BucketAdd,
    BucketRemove,
    ConnectionCreate,
    ConnectionSetRole,
    ConnectionSetEndpoints,
    ConnectionRename,
    ConnectionDelete,
    AdminGrant,
    AdminRevoke,
}

impl Activity {
    /// The name stored in the log; never change one (old rows keep it).
    pub fn name(self) -> &'static str {
        use Activity::*;
        match self {
            Verify => "verify",
            VerifyWithoutExternalId => "verify_without_external_id",
            VerifyWrongExternalId => "verify_wrong_external_id",
            ListBuckets => "list_buckets",
            ListObjects => "list_objects",
            Details => "details",
            Download => "download",
            Preview => "preview",
            Upload => "upload",
            UploadStart => "upload.start",
            UploadParts => "upload.parts",
            UploadComplete => "upload.complete",
            UploadAbort => "upload.abort",
            FolderCreate => "folder.create",
            FolderCount => "folder.count",
            Delete => "delete",
            Copy => "copy",
            Move => "move",
            Versions => "versions",
            VersionRestore => "version.restore",
            ShareCreate => "share.create",
            ShareOpen => "share.open",
            ShareRevoke => "share.revoke",
            BucketAdd => "bucket.add",
            BucketRemove => "bucket.remove",
            ConnectionCreate => "connection.create",
            ConnectionSetRole => "connection.set_role",
            ConnectionSetEndpoints => "connection.set_endpoints",
            ConnectionRename => "connection.rename",
            ConnectionDelete => "connection.delete",
            AdminGrant => "admin.grant",
            AdminRevoke => "admin.revoke",
        }
    }
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

impl Outcome {
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
