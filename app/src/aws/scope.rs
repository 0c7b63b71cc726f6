//! What one request may do with a connection, and the session policy that narrows the assumed
//! credentials to exactly that.

use serde_json::{json, Value};

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
    /// Named object actions (`s3:GetObject`, …) on one key.
    Object {
        bucket: String,
        key: String,
        actions: Vec<&'static str>,
    },
}

impl Scope {
    /// The audit log's name for the action.
    pub fn action(&self) -> &'static str {
        match self {
            Scope::Verify => "verify",
            Scope::ListBuckets => "list_buckets",
            Scope::ListBucket { .. } => "list_objects",
            Scope::Object { .. } => "object",
        }
    }

    pub fn bucket(&self) -> Option<&str> {
        match self {
            Scope::ListBucket { bucket } | Scope::Object { bucket, .. } => Some(bucket),
            Scope::Verify | Scope::ListBuckets => None,
        }
    }

    pub fn key(&self) -> Option<&str> {
        match self {
            Scope::Object { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The session policy for AssumeRole (JSON).
    pub fn session_policy(&self, partition: &str) -> String {
        let statement = match self {
            // Deny-all: the credentials prove the trust works and can do nothing else.
            Scope::Verify => json!({ "Effect": "Deny", "Action": "*", "Resource": "*" }),
            Scope::ListBuckets => json!({
                "Effect": "Allow",
                "Action": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"],
                "Resource": "*",
            }),
            Scope::ListBucket { bucket } => json!({
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": format!("arn:{partition}:s3:::{bucket}"),
            }),
            Scope::Object {
                bucket,
                key,
                actions,
            } => json!({
                "Effect": "Allow",
                "Action": actions,
                "Resource": format!("arn:{partition}:s3:::{bucket}/{}", escape_policy_key(key)),
            }),
        };
        let policy: Value = json!({ "Version": "2012-10-17", "Statement": [statement] });
        policy.to_string()
    }
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
            actions: vec!["s3:GetObject"],
        };
        let policy: Value = serde_json::from_str(&scope.session_policy("aws")).unwrap();
        assert_eq!(
            policy["Statement"][0]["Resource"],
            "arn:aws:s3:::b/odd/${*}${?}${$}{x}.txt"
        );
        assert_eq!(policy["Statement"][0]["Action"], json!(["s3:GetObject"]));
    }

    #[test]
    fn verify_scope_allows_nothing() {
        let policy: Value = serde_json::from_str(&Scope::Verify.session_policy("aws")).unwrap();
        assert_eq!(policy["Statement"][0]["Effect"], "Deny");
    }
}
