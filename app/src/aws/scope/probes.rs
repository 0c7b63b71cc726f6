//! The session policies of the scopes that probe rather than serve a request: the write probe
//! (a conditional PutObject of one key) and the connection doctor (reads of each bucket's
//! configuration, one object's headers, and a KMS data key).

use serde_json::{json, Value};

use super::{escape_policy_key, PROBE_KEY};
use crate::iam::Action;

/// The probe may list the buckets (when it has no locations) and put its one key, nothing else.
/// Too many locations for AWS's limit: the key under any prefix of any bucket.
pub(super) fn probe_statements(
    partition: &str,
    locations: &[(String, String)],
    widened: bool,
) -> Vec<Value> {
    let put = |resource: Value| json!({ "Effect": "Allow", "Action": [Action::PutObject], "Resource": resource });
    match (locations.is_empty(), widened) {
        (true, _) => vec![
            json!({ "Effect": "Allow", "Action": [Action::ListAllMyBuckets], "Resource": "*" }),
            put(json!(format!("arn:{partition}:s3:::*/{PROBE_KEY}"))),
        ],
        (false, true) => vec![put(json!(format!("arn:{partition}:s3:::*/*{PROBE_KEY}")))],
        (false, false) => vec![put(json!(locations
            .iter()
            .map(|(bucket, prefix)| format!(
                "arn:{partition}:s3:::{bucket}/{}{PROBE_KEY}",
                escape_policy_key(prefix)
            ))
            .collect::<Vec<_>>()))],
    }
}

/// What the doctor reads of each bucket (its configuration, one key listed and headed) and asks
/// of KMS. Too many places for AWS's limit: the same of every bucket.
pub(super) fn doctor_statements(
    partition: &str,
    places: &[(String, String)],
    widened: bool,
) -> Vec<Value> {
    const BUCKET_READS: [Action; 9] = [
        Action::ListBucket,
        Action::ListBucketVersions,
        Action::GetBucketLocation,
        Action::GetBucketVersioning,
        Action::GetBucketCors,
        Action::GetEncryptionConfiguration,
        Action::GetBucketObjectLockConfiguration,
        Action::GetBucketPublicAccessBlock,
        Action::GetLifecycleConfiguration,
    ];
    let (mut buckets, mut keys): (Vec<String>, Vec<String>) = match places.is_empty() || widened {
        true => (
            vec![format!("arn:{partition}:s3:::*")],
            vec![format!("arn:{partition}:s3:::*/*")],
        ),
        false => places
            .iter()
            .map(|(bucket, prefix)| {
                let arn = format!("arn:{partition}:s3:::{bucket}");
                let keys = format!("{arn}/{}*", escape_policy_key(prefix));
                (arn, keys)
            })
            .unzip(),
    };
    buckets.dedup();
    keys.dedup();
    let mut statements = vec![
        json!({ "Effect": "Allow", "Action": BUCKET_READS, "Resource": buckets }),
        json!({ "Effect": "Allow", "Action": [Action::GetObject], "Resource": keys }),
        json!({
            "Effect": "Allow",
            "Action": [Action::KmsGenerateDataKey, Action::KmsDecrypt],
            "Resource": "*",
        }),
    ];
    if places.is_empty() {
        statements.push(
            json!({ "Effect": "Allow", "Action": [Action::ListAllMyBuckets], "Resource": "*" }),
        );
    }
    statements
}
