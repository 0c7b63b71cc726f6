//! The IAM actions Crossview uses, as one enum: the session policies that narrow each request,
//! the refusal explanations ("the role does not allow s3:PutObject on …") and the permission
//! policies shown on the connection page all name actions from here, so they cannot disagree.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An S3 action, serialized as IAM spells it (`s3:GetObject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    #[serde(rename = "s3:ListAllMyBuckets")]
    ListAllMyBuckets,
    #[serde(rename = "s3:GetBucketLocation")]
    GetBucketLocation,
    #[serde(rename = "s3:ListBucket")]
    ListBucket,
    #[serde(rename = "s3:ListBucketVersions")]
    ListBucketVersions,
    #[serde(rename = "s3:GetBucketVersioning")]
    GetBucketVersioning,
    #[serde(rename = "s3:GetBucketCors")]
    GetBucketCors,
    #[serde(rename = "s3:GetObject")]
    GetObject,
    #[serde(rename = "s3:GetObjectVersion")]
    GetObjectVersion,
    #[serde(rename = "s3:GetObjectTagging")]
    GetObjectTagging,
    #[serde(rename = "s3:GetLifecycleConfiguration")]
    GetLifecycleConfiguration,
    #[serde(rename = "s3:PutObject")]
    PutObject,
    #[serde(rename = "s3:DeleteObject")]
    DeleteObject,
    #[serde(rename = "s3:DeleteObjectVersion")]
    DeleteObjectVersion,
    #[serde(rename = "s3:AbortMultipartUpload")]
    AbortMultipartUpload,
    #[serde(rename = "s3:ListMultipartUploadParts")]
    ListMultipartUploadParts,
    #[serde(rename = "s3:ListBucketMultipartUploads")]
    ListBucketMultipartUploads,
    #[serde(rename = "s3:PutObjectTagging")]
    PutObjectTagging,
    // What the connection doctor reads of a bucket's configuration.
    #[serde(rename = "s3:GetEncryptionConfiguration")]
    GetEncryptionConfiguration,
    #[serde(rename = "s3:GetBucketObjectLockConfiguration")]
    GetBucketObjectLockConfiguration,
    #[serde(rename = "s3:GetBucketPublicAccessBlock")]
    GetBucketPublicAccessBlock,
    /// The doctor's one-click CORS fix: never in the suggested policies, the owner adds it.
    #[serde(rename = "s3:PutBucketCORS")]
    PutBucketCors,
    /// An SSE-KMS bucket's key: uploads need a data key, downloads need to decrypt.
    #[serde(rename = "kms:GenerateDataKey")]
    KmsGenerateDataKey,
    #[serde(rename = "kms:Decrypt")]
    KmsDecrypt,
}

impl Action {
    /// What a read-only role needs: browse, preview, download, versions (and whether the bucket's
    /// lifecycle rules clean up unfinished uploads, and what the connection doctor reads of a
    /// bucket: its encryption, Object Lock and public access settings).
    pub const READ: [Action; 13] = [
        Action::ListAllMyBuckets,
        Action::GetBucketLocation,
        Action::ListBucket,
        Action::ListBucketVersions,
        Action::GetBucketVersioning,
        Action::GetBucketCors,
        Action::GetObject,
        Action::GetObjectVersion,
        Action::GetObjectTagging,
        Action::GetLifecycleConfiguration,
        Action::GetEncryptionConfiguration,
        Action::GetBucketObjectLockConfiguration,
        Action::GetBucketPublicAccessBlock,
    ];

    /// What a read-write role adds: upload, delete, copy, move.
    pub const WRITE: [Action; 7] = [
        Action::PutObject,
        Action::DeleteObject,
        Action::DeleteObjectVersion,
        Action::AbortMultipartUpload,
        Action::ListMultipartUploadParts,
        Action::ListBucketMultipartUploads,
        Action::PutObjectTagging,
    ];

    /// The action as IAM names it.
    pub fn name(self) -> &'static str {
        match self {
            Action::ListAllMyBuckets => "s3:ListAllMyBuckets",
            Action::GetBucketLocation => "s3:GetBucketLocation",
            Action::ListBucket => "s3:ListBucket",
            Action::ListBucketVersions => "s3:ListBucketVersions",
            Action::GetBucketVersioning => "s3:GetBucketVersioning",
            Action::GetBucketCors => "s3:GetBucketCors",
            Action::GetObject => "s3:GetObject",
            Action::GetObjectVersion => "s3:GetObjectVersion",
            Action::GetObjectTagging => "s3:GetObjectTagging",
            Action::GetLifecycleConfiguration => "s3:GetLifecycleConfiguration",
            Action::PutObject => "s3:PutObject",
            Action::DeleteObject => "s3:DeleteObject",
            Action::DeleteObjectVersion => "s3:DeleteObjectVersion",
            Action::AbortMultipartUpload => "s3:AbortMultipartUpload",
            Action::ListMultipartUploadParts => "s3:ListMultipartUploadParts",
            Action::ListBucketMultipartUploads => "s3:ListBucketMultipartUploads",
            Action::PutObjectTagging => "s3:PutObjectTagging",
            Action::GetEncryptionConfiguration => "s3:GetEncryptionConfiguration",
            Action::GetBucketObjectLockConfiguration => "s3:GetBucketObjectLockConfiguration",
            Action::GetBucketPublicAccessBlock => "s3:GetBucketPublicAccessBlock",
            Action::PutBucketCors => "s3:PutBucketCORS",
            Action::KmsGenerateDataKey => "kms:GenerateDataKey",
            Action::KmsDecrypt => "kms:Decrypt",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where one user may act on a connection restricted to locations: one bucket, the keys under
/// `prefix` (`""`: all of them; `{user}` already replaced by the acting user's id), reading only
/// unless `writable`. Each assumption's session policy is fenced to the one a request uses, and
/// pages leave out what it forbids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reach {
    pub bucket: String,
    pub prefix: String,
    pub writable: bool,
    /// Through a teammate's grant, not the user's own connection.
    pub via: Option<Via>,
}

/// The grant a user acts under, and who gave it (the connection's owner): both are audited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Via {
    pub grant: i64,
    pub grantor: i64,
}

/// A location's or a grant's access, as pages name it.
pub fn mode(writable: bool) -> &'static str {
    match writable {
        true => "read-write",
        false => "read-only",
    }
}

impl Reach {
    /// `s3://bucket/prefix`, as pages and the audit trail show it.
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Why a connection changes nothing in a place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadOnly {
    /// The owner chose read-only access.
    Chosen,
    /// The last connection check found that AWS refuses the role's writes here.
    Learned,
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn serialized_names_are_the_iam_names() {
        for action in Action::READ.into_iter().chain(Action::WRITE) {
            let json = serde_json::to_value(action).unwrap();
            assert_eq!(json, action.name(), "{action:?}");
            assert_eq!(serde_json::from_value::<Action>(json).unwrap(), action);
        }
    }
}
