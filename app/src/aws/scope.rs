//! What one request may do with a connection, and the session policy that narrows the assumed
//! credentials to exactly that.

use serde_json::{json, Value};

use crate::{audit::Activity, iam::Action};

/// The permission one request needs. The session policy built from it is intersected by AWS
/// with the role's own policies, so the temporary credentials can never do more than this.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Verification: the credentials only need to exist (GetCallerIdentity needs no permission).
    Verify,
    /// ListBuckets and looking up bucket regions.
    ListBuckets,
    /// Read one bucket's listing.
    ListBucket { bucket: String },
    /// Named object actions (`s3:GetObject`, …) on one key; `purpose` names it in the audit log.
    Object {
        bucket: String,
        key: String,
        actions: Vec<Action>,
        purpose: Activity,
    },
    /// A presigned URL for one action on one key: the session must last as long as the URL.
    Presign {
        bucket: String,
        key: String,
        action: Action,
        url_seconds: u32,
        purpose: Activity,
    },
    /// An object's versions: ListObjectVersions on the bucket, and `actions` on the one key.
    Versions {
        bucket: String,
        key: String,
        actions: Vec<Action>,
        purpose: Activity,
    },
    /// Listing a folder and acting on every key under it (delete a folder, copy or move one):
    /// `s3:ListBucket` on the bucket and `actions` on each `(prefix, actions)` pair's keys; a
    /// prefix not ending in `/` names one key only.
    Folders {
        bucket: String,
        grants: Vec<(String, Vec<Action>)>,
        purpose: Activity,
    },
}

impl Scope {
    /// What the assumption is for, in the audit log.
    pub fn action(&self) -> Activity {
        match self {
            Scope::Verify => Activity::Verify,
            Scope::ListBuckets => Activity::ListBuckets,
            Scope::ListBucket { .. } => Activity::ListObjects,
            Scope::Object { purpose, .. }
            | Scope::Versions { purpose, .. }
            | Scope::Presign { purpose, .. }
            | Scope::Folders { purpose, .. } => *purpose,
        }
    }

    /// DurationSeconds for AssumeRole: AWS's minimum, unless a presigned URL must outlive it.
    pub fn session_seconds(&self) -> i32 {
        let url = match self {
            Scope::Presign { url_seconds, .. } => i32::try_from(*url_seconds).unwrap_or(i32::MAX),
            _ => 0,
        };
        url.max(super::SESSION_SECONDS)
    }

    pub fn bucket(&self) -> Option<&str> {
        match self {
            Scope::ListBucket { bucket }
            | Scope::Object { bucket, .. }
            | Scope::Versions { bucket, .. }
            | Scope::Presign { bucket, .. }
            | Scope::Folders { bucket, .. } => Some(bucket),
            Scope::Verify | Scope::ListBuckets => None,
        }
    }

    pub fn key(&self) -> Option<&str> {
        match self {
            Scope::Object { key, .. }
            | Scope::Versions { key, .. }
            | Scope::Presign { key, .. } => Some(key),
            Scope::Folders { grants, .. } => grants.first().map(|(prefix, _)| prefix.as_str()),
            _ => None,
        }
    }

    /// The session policy for AssumeRole (JSON).
    pub fn session_policy(&self, partition: &str) -> String {
        let statements = match self {
            // Deny-all: the credentials prove the trust works and can do nothing else.
            Scope::Verify => vec![json!({ "Effect": "Deny", "Action": "*", "Resource": "*" })],
            Scope::ListBuckets => vec![json!({
                "Effect": "Allow",
                "Action": [Action::ListAllMyBuckets, Action::GetBucketLocation],
                "Resource": "*",
            })],
            Scope::ListBucket { bucket } => vec![list_statement(partition, bucket)],
            Scope::Object {
                bucket,
                key,
                actions,
                ..
            } => vec![object_statement(
                partition,
                bucket,
                &escape_policy_key(key),
                actions,
            )],
            Scope::Versions {
                bucket,
                key,
                actions,
                ..
            } => vec![
                json!({
                    "Effect": "Allow",
                    "Action": [Action::ListBucketVersions, Action::GetBucketLocation],
                    "Resource": format!("arn:{partition}:s3:::{bucket}"),
                }),
                object_statement(partition, bucket, &escape_policy_key(key), actions),
            ],
            Scope::Presign {
                bucket,
                key,
                action,
                ..
            } => vec![object_statement(
                partition,
                bucket,
                &escape_policy_key(key),
                &[*action],
            )],
            Scope::Folders { bucket, grants, .. } => {
                std::iter::once(list_statement(partition, bucket))
                    .chain(grants.iter().map(|(prefix, actions)| {
                        // A folder (or the whole bucket) grants every key under it; a key, itself.
                        let keys = match prefix.is_empty() || prefix.ends_with('/') {
                            true => format!("{}*", escape_policy_key(prefix)),
                            false => escape_policy_key(prefix),
                        };
                        object_statement(partition, bucket, &keys, actions)
                    }))
                    .collect()
            }
        };
        let policy: Value = json!({ "Version": "2012-10-17", "Statement": statements });
        policy.to_string()
    }
}

fn list_statement(partition: &str, bucket: &str) -> Value {
    json!({
        "Effect": "Allow",
        "Action": [Action::ListBucket, Action::GetBucketLocation],
        "Resource": format!("arn:{partition}:s3:::{bucket}"),
    })
}

/// `keys` is an escaped key, or an escaped prefix followed by the one intended wildcard.
fn object_statement(partition: &str, bucket: &str, keys: &str, actions: &[Action]) -> Value {
    json!({
        "Effect": "Allow",
        "Action": actions,
        "Resource": format!("arn:{partition}:s3:::{bucket}/{keys}"),
    })
}

/// In policy resources `*` and `?` are wildcards and `${…}` a variable; a key must match itself only.
fn escape_policy_key(key: &str) -> String {
    key.replace('$', "${$}")
        .replace('*', "${*}")
        .replace('?', "${?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_scope_names_exactly_one_key() {
        let scope = Scope::Object {
            bucket: "b".into(),
            key: "odd/*?${x}.txt".into(),
            actions: vec![Action::GetObject],
            purpose: Activity::Details,
        };
        let policy: Value = serde_json::from_str(&scope.session_policy("aws")).unwrap();
        assert_eq!(
            policy["Statement"][0]["Resource"],
            "arn:aws:s3:::b/odd/${*}${?}${$}{x}.txt"
        );
        assert_eq!(policy["Statement"][0]["Action"], json!(["s3:GetObject"]));
    }

    #[test]
    fn a_presigned_url_gets_a_session_that_outlives_it() {
        let presign = |url_seconds| Scope::Presign {
            bucket: "b".into(),
            key: "k".into(),
            action: Action::GetObject,
            url_seconds,
            purpose: Activity::Download,
        };
        assert_eq!(presign(600).session_seconds(), 900, "AWS's minimum");
        assert_eq!(presign(7200).session_seconds(), 7200);
        assert_eq!(Scope::ListBuckets.session_seconds(), 900);
        let policy: Value = serde_json::from_str(&presign(600).session_policy("aws")).unwrap();
        assert_eq!(policy["Statement"][0]["Action"], json!(["s3:GetObject"]));
        assert_eq!(policy["Statement"][0]["Resource"], "arn:aws:s3:::b/k");
    }

    #[test]
    fn a_folder_scope_lists_the_bucket_and_acts_under_its_prefixes_only() {
        let scope = Scope::Folders {
            bucket: "b".into(),
            grants: vec![
                (
                    "from/a*b/".into(),
                    vec![Action::GetObject, Action::DeleteObject],
                ),
                ("to/".into(), vec![Action::PutObject]),
                ("one.txt".into(), vec![Action::PutObject]),
            ],
            purpose: Activity::Move,
        };
        let policy: Value = serde_json::from_str(&scope.session_policy("aws")).unwrap();
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements[0]["Resource"], "arn:aws:s3:::b");
        assert_eq!(statements[0]["Action"][0], "s3:ListBucket");
        assert_eq!(statements[1]["Resource"], "arn:aws:s3:::b/from/a${*}b/*");
        assert_eq!(
            statements[1]["Action"],
            json!(["s3:GetObject", "s3:DeleteObject"])
        );
        assert_eq!(statements[2]["Resource"], "arn:aws:s3:::b/to/*");
        assert_eq!(statements[3]["Resource"], "arn:aws:s3:::b/one.txt");
        assert_eq!(
            (scope.action(), scope.key()),
            (Activity::Move, Some("from/a*b/"))
        );
    }

    #[test]
    fn verify_scope_allows_nothing() {
        let policy: Value = serde_json::from_str(&Scope::Verify.session_policy("aws")).unwrap();
        assert_eq!(policy["Statement"][0]["Effect"], "Deny");
    }
}
