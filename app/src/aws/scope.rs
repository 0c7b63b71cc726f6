//! What one request may do with a connection, and the session policy that narrows the assumed
//! credentials to exactly that — and, on a connection restricted to locations, to the one
//! location the request stays in.

use serde_json::{json, Value};

use self::probes::{doctor_statements, probe_statements};
use crate::{
    audit::Activity,
    error::AppError,
    iam::{Action, Reach},
};

/// AWS's limit on a session policy's text (AssumeRole's `Policy`, 2,048 characters).
pub const POLICY_LIMIT: usize = 2048;
/// S3's longest key, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// `value` as JSON in printable ASCII: every other character as a `\uXXXX` escape (UTF-16,
/// so a pair of them above the BMP). AWS takes session policies only in U+0009, U+000A,
/// U+000D and U+0020–U+00FF, and a key in any other script would otherwise make every request
/// on it fail; the escapes mean the same to IAM's JSON parser.
pub fn ascii_json(value: &Value) -> String {
    let text = value.to_string();
    let mut ascii = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' '..='~' => ascii.push(c),
            // serde_json escapes every control character below U+0020 already; this is the rest.
            _ => {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    ascii.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    ascii
}

/// The permission one request needs. The session policy built from it is intersected by AWS
/// with the role's own policies, so the temporary credentials can never do more than this.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Verification: the credentials only need to exist (GetCallerIdentity needs no permission).
    Verify,
    /// ListBuckets and looking up bucket regions.
    ListBuckets,
    /// Read one bucket's listing under `prefix` (`""`: from its root; HeadBucket too).
    ListBucket { bucket: String, prefix: String },
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
    /// `s3:ListBucket` on the bucket (every listing under `within`) and `actions` on each
    /// `(prefix, actions)` pair's keys; a prefix not ending in `/` names one key only. URLs
    /// presigned with it live `url_seconds` (0: none are), and so must the session.
    Folders {
        bucket: String,
        within: String,
        grants: Vec<(String, Vec<Action>)>,
        purpose: Activity,
        url_seconds: u32,
    },
    /// The check's write probe: a conditional PutObject of [`PROBE_KEY`] that S3 authorizes and
    /// then refuses (so nothing is written), at the root of every bucket the role can list, or
    /// under each `(bucket, prefix)` location when the connection has some.
    WriteProbe { locations: Vec<(String, String)> },
    /// The connection doctor: reads each `(bucket, prefix)` place's bucket configuration, lists
    /// one key under the prefix and heads it, and asks KMS for a data key and to decrypt it:
    /// nothing that changes anything. No places: every bucket the role lists. The session lasts
    /// `url_seconds` (when longer than the default), as a download's would: a presigned URL dies
    /// with the session that signed it.
    Doctor {
        places: Vec<(String, String)>,
        url_seconds: u32,
    },
    /// The doctor's CORS fix: read and replace one bucket's CORS configuration.
    BucketCors { bucket: String },
}

/// The key the write probe names; it is never written (the PutObject's precondition fails).
pub const PROBE_KEY: &str = ".crossview-probe";

impl Scope {
    /// What the assumption is for, in the audit log.
    pub fn action(&self) -> Activity {
        match self {
            Scope::Verify => Activity::Verify,
            Scope::WriteProbe { .. } => Activity::WriteProbe,
            Scope::Doctor { .. } => Activity::Doctor,
            Scope::BucketCors { .. } => Activity::CorsFix,
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
            Scope::Presign { url_seconds, .. }
            | Scope::Folders { url_seconds, .. }
            | Scope::Doctor { url_seconds, .. } => i32::try_from(*url_seconds).unwrap_or(i32::MAX),
            _ => 0,
        };
        url.max(super::SESSION_SECONDS)
    }

    pub fn bucket(&self) -> Option<&str> {
        match self {
            Scope::ListBucket { bucket, .. }
            | Scope::Object { bucket, .. }
            | Scope::Versions { bucket, .. }
            | Scope::Presign { bucket, .. }
            | Scope::Folders { bucket, .. }
            | Scope::BucketCors { bucket } => Some(bucket),
            Scope::Verify
            | Scope::ListBuckets
            | Scope::WriteProbe { .. }
            | Scope::Doctor { .. } => None,
        }
    }

    pub fn key(&self) -> Option<&str> {
        match self {
            Scope::Object { key, .. }
            | Scope::Versions { key, .. }
            | Scope::Presign { key, .. } => Some(key),
            // The first prefix acted on, or (a listing alone) the folder listed.
            Scope::Folders { grants, within, .. } => {
                Some(grants.first().map_or(within.as_str(), |(prefix, _)| prefix))
            }
            _ => None,
        }
    }

    /// Whether every name in the request has a shape S3 accepts: a bucket name (at most 63), keys and
    /// prefixes of at most 1,024 bytes (S3's own limit). Checked before anything is sent to AWS
    /// or written to the audit trail: a longer key would make the SDK build a URI it refuses.
    pub fn check(&self) -> Result<(), AppError> {
        let Some((bucket, named, _)) = self.touches() else {
            return Ok(());
        };
        // Legacy names longer than today's 63 are refused too: the audit trail keeps 63.
        if !super::bucket::plausible_bucket_name(bucket) || bucket.len() > 63 {
            return Err(AppError::BucketNameInvalid);
        }
        match named.iter().all(|name| name.len() <= MAX_KEY_BYTES) {
            true => Ok(()),
            false => Err(AppError::KeyInvalid),
        }
    }

    /// Every key or prefix the request names in its bucket (listed or acted on), and whether it
    /// changes anything; `None` for the scopes that touch no bucket.
    /// Whether the request changes something in S3.
    pub fn writes(&self) -> bool {
        self.touches().is_some_and(|(_, _, writes)| writes)
    }

    fn touches(&self) -> Option<(&str, Vec<&str>, bool)> {
        let writes = |actions: &[Action]| actions.iter().any(|a| Action::WRITE.contains(a));
        match self {
            Scope::Verify
            | Scope::ListBuckets
            | Scope::WriteProbe { .. }
            | Scope::Doctor { .. } => None,
            // The bucket's own configuration: a change that covers all of it.
            Scope::BucketCors { bucket } => Some((bucket, vec![""], true)),
            Scope::ListBucket { bucket, prefix } => Some((bucket, vec![prefix], false)),
            Scope::Object {
                bucket,
                key,
                actions,
                ..
            }
            | Scope::Versions {
                bucket,
                key,
                actions,
                ..
            } => Some((bucket, vec![key], writes(actions))),
            Scope::Presign {
                bucket,
                key,
                action,
                ..
            } => Some((bucket, vec![key], writes(&[*action]))),
            Scope::Folders {
                bucket,
                within,
                grants,
                ..
            } => {
                let named = std::iter::once(within.as_str())
                    .chain(grants.iter().map(|(prefix, _)| prefix.as_str()));
                let changes = grants.iter().any(|(_, actions)| writes(actions));
                Some((bucket, named.collect(), changes))
            }
        }
    }

    /// On a connection restricted to `reach`, the one location this request stays in (the
    /// session policy names it alone). Verification touches no bucket (`None`); a request
    /// outside every location, listing the account's buckets included, is refused, and a
    /// change inside a read-only one too, before anything is sent to AWS.
    pub fn within<'r>(&self, reach: &'r [Reach]) -> Result<Option<&'r Reach>, AppError> {
        if *self == Scope::Verify {
            return Ok(None);
        }
        let (bucket, named, writes) = self.touches().ok_or(AppError::OutsideLocation)?;
        let mut holding = reach
            .iter()
            .filter(|r| r.bucket == bucket && named.iter().all(|n| n.starts_with(&r.prefix)))
            .peekable();
        let first = holding.peek().copied().ok_or(AppError::OutsideLocation)?;
        match writes {
            false => Ok(Some(first)),
            true => holding
                .find(|r| r.writable)
                .map(Some)
                .ok_or(AppError::ReadOnlyLocation),
        }
    }

    /// The session policy for AssumeRole (JSON), within `location` where the connection is
    /// restricted. Names keys exactly; when that would pass AWS's limit (keys up to 1,024
    /// bytes), the object statements name the location's prefix (or the bucket) instead, which
    /// the request's own keys are under.
    pub fn session_policy(&self, partition: &str, location: Option<&Reach>) -> String {
        let exact = self.policy(partition, location, false);
        match exact.len() <= POLICY_LIMIT {
            true => exact,
            false => self.policy(partition, location, true),
        }
    }

    fn policy(&self, partition: &str, location: Option<&Reach>, widened: bool) -> String {
        let mut statements = match (self, widened) {
            // Deny-all: the credentials prove the trust works and can do nothing else.
            (Scope::Verify, _) => vec![json!({ "Effect": "Deny", "Action": "*", "Resource": "*" })],
            (Scope::ListBuckets, _) => vec![json!({
                "Effect": "Allow",
                "Action": [Action::ListAllMyBuckets, Action::GetBucketLocation],
                "Resource": "*",
            })],
            // Under a folder, nothing above it (the bucket, if naming it is too long).
            (Scope::ListBucket { bucket, prefix }, false) if !prefix.is_empty() => {
                listing_under(partition, bucket, prefix)
            }
            (Scope::ListBucket { bucket, .. }, _) => vec![list_statement(partition, bucket)],
            (Scope::WriteProbe { locations }, widened) => {
                probe_statements(partition, locations, widened)
            }
            (Scope::Doctor { places, .. }, widened) => {
                doctor_statements(partition, places, widened)
            }
            (Scope::BucketCors { bucket }, _) => bucket_statement(
                partition,
                bucket,
                &[Action::GetBucketCors, Action::PutBucketCors],
            )
            .into_iter()
            .collect(),
            (_, true) => self.widened(partition, location),
            (
                Scope::Object {
                    bucket,
                    key,
                    actions,
                    ..
                },
                false,
            ) => {
                let (on_bucket, on_key) = split_bucket_actions(actions);
                let mut statements = vec![object_statement(
                    partition,
                    bucket,
                    &escape_policy_key(key),
                    &on_key,
                )];
                statements.extend(bucket_statement(partition, bucket, &on_bucket));
                statements
            }
            (
                Scope::Versions {
                    bucket,
                    key,
                    actions,
                    ..
                },
                false,
            ) => vec![
                versions_statement(partition, bucket),
                object_statement(partition, bucket, &escape_policy_key(key), actions),
            ],
            (
                Scope::Presign {
                    bucket,
                    key,
                    action,
                    ..
                },
                false,
            ) => vec![object_statement(
                partition,
                bucket,
                &escape_policy_key(key),
                &[*action],
            )],
            (Scope::Folders { bucket, grants, .. }, false) => {
                let mut on_bucket = Vec::new();
                let mut statements = vec![list_statement(partition, bucket)];
                for (prefix, actions) in grants {
                    let (bucket_actions, actions) = split_bucket_actions(actions);
                    on_bucket.extend(bucket_actions);
                    if actions.is_empty() {
                        continue;
                    }
                    // A folder (or the whole bucket) grants every key under it; a key, itself.
                    let keys = match prefix.is_empty() || prefix.ends_with('/') {
                        true => format!("{}*", escape_policy_key(prefix)),
                        false => escape_policy_key(prefix),
                    };
                    statements.push(object_statement(partition, bucket, &keys, &actions));
                }
                on_bucket.dedup();
                statements.extend(bucket_statement(partition, bucket, &on_bucket));
                statements
            }
        };
        if let Some(location) = location {
            statements.extend(fences(partition, location));
        }
        ascii_json(&json!({ "Version": "2012-10-17", "Statement": statements }))
    }

    /// The object scopes' statements with every key replaced by the location's prefix (or the
    /// whole bucket): one statement with all the request's object actions.
    fn widened(&self, partition: &str, location: Option<&Reach>) -> Vec<Value> {
        let Some((bucket, _, _)) = self.touches() else {
            return Vec::new();
        };
        let named: Vec<Action> = match self {
            Scope::Object { actions, .. } | Scope::Versions { actions, .. } => actions.clone(),
            Scope::Presign { action, .. } => vec![*action],
            Scope::Folders { grants, .. } => grants.iter().flat_map(|(_, a)| a.clone()).collect(),
            _ => Vec::new(),
        };
        let mut actions = Vec::new();
        for action in named {
            if !actions.contains(&action) {
                actions.push(action);
            }
        }
        let prefix = location.map_or("", |l| l.prefix.as_str());
        let under = format!("{}*", escape_policy_key(prefix));
        let (on_bucket, actions) = split_bucket_actions(&actions);
        let mut statements = vec![object_statement(partition, bucket, &under, &actions)];
        statements.extend(bucket_statement(partition, bucket, &on_bucket));
        match self {
            Scope::Versions { .. } => statements.push(versions_statement(partition, bucket)),
            Scope::Folders { .. } => statements.push(list_statement(partition, bucket)),
            _ => {}
        }
        statements
    }
}

/// What keeps a session inside one location whatever the statements before them allow: explicit
/// denies, which no Allow can outweigh. Nothing outside the bucket and the location's keys;
/// nothing on the bucket itself but listing (and finding its region); listing only under the
/// prefix (a listing without one is refused too: IAM's negated operators match a missing key);
/// and in a read-only location, nothing but reading.
fn fences(partition: &str, location: &Reach) -> Vec<Value> {
    let bucket = format!("arn:{partition}:s3:::{}", location.bucket);
    let under = format!("{}*", escape_policy_key(&location.prefix));
    let mut fences = vec![
        json!({
            "Effect": "Deny",
            "Action": "s3:*",
            "NotResource": [bucket, format!("{bucket}/{under}")],
        }),
        json!({
            "Effect": "Deny",
            "NotAction": ["s3:List*", Action::GetBucketLocation],
            "Resource": bucket,
        }),
    ];
    if !location.prefix.is_empty() {
        // The listings that say which prefix they list; ListBucketMultipartUploads has no
        // `s3:prefix` in IAM (a Deny on it would refuse every one), and Crossview names the
        // prefix in its request.
        fences.push(json!({
            "Effect": "Deny",
            "Action": [Action::ListBucket, Action::ListBucketVersions],
            "Resource": bucket,
            "Condition": { "StringNotLike": { "s3:prefix": under } },
        }));
    }
    if !location.writable {
        fences.push(json!({
            "Effect": "Deny",
            "NotAction": ["s3:Get*", "s3:List*"],
            "Resource": "*",
        }));
    }
    fences
}

fn versions_statement(partition: &str, bucket: &str) -> Value {
    json!({
        "Effect": "Allow",
        "Action": [Action::ListBucketVersions, Action::GetBucketLocation],
        "Resource": format!("arn:{partition}:s3:::{bucket}"),
    })
}

fn list_statement(partition: &str, bucket: &str) -> Value {
    json!({
        "Effect": "Allow",
        "Action": [Action::ListBucket, Action::GetBucketLocation],
        "Resource": format!("arn:{partition}:s3:::{bucket}"),
    })
}

/// ListBucket under `prefix` only (IAM's `s3:prefix` is the listing's), and the bucket's region.
fn listing_under(partition: &str, bucket: &str, prefix: &str) -> Vec<Value> {
    let mut list = list_statement(partition, bucket);
    let region = json!({ "Effect": "Allow", "Action": [Action::GetBucketLocation], "Resource": list["Resource"] });
    list["Action"] = json!([Action::ListBucket]);
    list["Condition"] =
        json!({ "StringLike": { "s3:prefix": format!("{}*", escape_policy_key(prefix)) } });
    vec![list, region]
}

/// Actions IAM authorizes on the bucket, not on a key, apart from the rest.
fn split_bucket_actions(actions: &[Action]) -> (Vec<Action>, Vec<Action>) {
    actions.iter().copied().partition(|a| {
        matches!(
            a,
            Action::ListBucketMultipartUploads | Action::GetLifecycleConfiguration
        )
    })
}

/// The bucket-level actions a request needs (finding unfinished uploads, reading the lifecycle
/// rules), if any.
fn bucket_statement(partition: &str, bucket: &str, actions: &[Action]) -> Option<Value> {
    (!actions.is_empty()).then(|| {
        json!({
            "Effect": "Allow",
            "Action": actions,
            "Resource": format!("arn:{partition}:s3:::{bucket}"),
        })
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

mod probes;
#[cfg(test)]
mod tests;
