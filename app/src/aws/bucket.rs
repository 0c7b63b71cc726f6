//! Bucket names and ARNs, checked and built before AWS is asked anything; what a bucket's
//! lifecycle rules do to unfinished uploads.

use aws_sdk_s3::types::{ExpirationStatus, LifecycleRule};

/// The buckets added to `connection` by name.
pub async fn added_buckets(
    pool: &sqlx::PgPool,
    connection: i64,
) -> Result<Vec<String>, crate::error::AppError> {
    Ok(sqlx::query_scalar!(
        "select name from connection_buckets where connection_id = $1 order by name",
        connection
    )
    .fetch_all(pool)
    .await?)
}

/// S3's naming rules for new (general purpose) buckets: what a user may type to add one.
pub fn valid_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let charset = bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-');
    let ends = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let ip_like = name.split('.').count() == 4
        && name
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (3..=63).contains(&bytes.len())
        && charset
        && ends(bytes.first())
        && ends(bytes.last())
        && !name.contains("..")
        && !ip_like
}

/// Names of existing buckets, including legacy ones (uppercase, underscores) that new buckets may
/// no longer use; anything else cannot be a bucket and is refused before AWS is asked.
pub fn plausible_bucket_name(name: &str) -> bool {
    (1..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// `aws`, `aws-cn` or `aws-us-gov`: the partition of a role ARN, for the ARNs shown to the user
/// and in policies.
pub fn partition(role_arn: &str) -> &str {
    role_arn.split(':').nth(1).unwrap_or("aws")
}

/// `arn:<partition>:s3:::<bucket>`.
pub fn bucket_arn(partition: &str, bucket: &str) -> String {
    format!("arn:{partition}:s3:::{bucket}")
}

/// The fewest days after which an enabled rule that covers every key of `folder` aborts an
/// unfinished upload (a rule for a folder above it, or for the whole bucket).
pub fn abort_after_days(rules: &[LifecycleRule], folder: &str) -> Option<i32> {
    rules
        .iter()
        .filter(|r| r.status() == &ExpirationStatus::Enabled)
        .filter(|r| {
            #[allow(deprecated)] // rules written before filters existed keep a bare prefix
            let prefix = r
                .filter()
                .and_then(|f| f.prefix().or_else(|| f.and().and_then(|a| a.prefix())))
                .or(r.prefix())
                .unwrap_or_default();
            folder.starts_with(prefix)
        })
        .filter_map(|r| {
            r.abort_incomplete_multipart_upload()?
                .days_after_initiation()
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        for good in ["abc", "my-bucket.logs", "a1-b2", &"a".repeat(63)] {
            assert!(valid_bucket_name(good), "{good}");
        }
        for bad in [
            "ab",
            "My-Bucket",
            "-abc",
            "abc-",
            "a..b",
            "192.168.5.4",
            "under_score",
            "with space",
            &"a".repeat(64),
            "<script>",
        ] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
    }

    #[test]
    fn arns_carry_the_role_partition() {
        let arn = "arn:aws-cn:iam::123456789012:role/r";
        assert_eq!(bucket_arn(partition(arn), "b"), "arn:aws-cn:s3:::b");
    }
}
