//! The unfinished multipart uploads under a folder, as S3 keeps them (ListMultipartUploads,
//! ListParts for what each holds), and whether the bucket's lifecycle rules clean them up. One
//! assumption that may list uploads and parts under the folder, and read the lifecycle rules.

use aws_sdk_s3::{
    config::http::HttpResponse, error::SdkError,
    operation::list_multipart_uploads::ListMultipartUploadsError, types::LifecycleRule, Client,
};
use futures::{stream, StreamExt};

use super::resume::held_parts;
use crate::{
    audit::Activity,
    aws::{
        access::assume_for,
        bucket::{abort_after_days, plausible_bucket_name},
        region::in_bucket_region,
        Scope, MAX_KEY_BYTES,
    },
    error::AppError,
    iam::Action,
    state::AppState,
    transfers::{Cleanup, UnfinishedList, UnfinishedUpload},
};

/// Uploads one listing shows at most (S3 answers 1,000 a page: one page).
pub const MOST: usize = 1000;
/// Uploads whose parts are counted (one ListParts each, eight at once); the others say "unknown".
pub const SIZED: usize = 100;

pub async fn unfinished(
    state: &AppState,
    user: i64,
    connection: i64,
    (bucket, folder): (&str, &str),
) -> Result<UnfinishedList, AppError> {
    if !plausible_bucket_name(bucket) {
        return Err(AppError::BucketNameInvalid);
    }
    if folder.len() > MAX_KEY_BYTES || !(folder.is_empty() || folder.ends_with('/')) {
        return Err(AppError::KeyInvalid);
    }
    let scope = Scope::Folders {
        bucket: bucket.to_owned(),
        within: folder.to_owned(),
        grants: vec![(
            folder.to_owned(),
            vec![
                Action::ListBucketMultipartUploads,
                Action::ListMultipartUploadParts,
                Action::GetLifecycleConfiguration,
            ],
        )],
        purpose: Activity::UploadsList,
        url_seconds: 0,
    };
    let (role, assumed) = assume_for(state, user, connection, &scope).await?;
    let arn = role.bucket_arn(bucket);
    let (listed, s3) = in_bucket_region(
        state,
        &assumed,
        bucket,
        (Action::ListBucketMultipartUploads, &arn),
        |s3| list(s3, bucket.to_owned(), folder.to_owned()),
    )
    .await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut uploads: Vec<UnfinishedUpload> = listed
        .uploads()
        .iter()
        .filter_map(|u| {
            let initiated = u.initiated().map(|t| t.secs());
            Some(UnfinishedUpload {
                key: u.key()?.to_owned(),
                id: u.upload_id()?.to_owned(),
                age_seconds: initiated.map(|t| (now - t).max(0) as u64),
                held: None,
            })
        })
        // Only what lies in the folder, whatever S3 answered.
        .filter(|u| u.key.starts_with(folder))
        .collect();
    uploads.sort_by_key(|u| std::cmp::Reverse(u.age_seconds));
    let more = listed.is_truncated() == Some(true);
    // What each holds, for the first ones: a part list that fails says "unknown", not an error.
    let owned: Vec<(String, String)> = uploads
        .iter()
        .take(SIZED)
        .map(|u| (u.key.clone(), u.id.clone()))
        .collect();
    let held: Vec<Option<(u32, u64)>> = stream::iter(owned)
        .map(|(key, id)| {
            let s3 = s3.clone();
            async move {
                let parts = held_parts(&s3, bucket, &key, &id).await.ok()?;
                Some((parts.len() as u32, parts.iter().map(|p| p.1).sum()))
            }
        })
        .buffered(8)
        .collect()
        .await;
    for (upload, held) in uploads.iter_mut().zip(held) {
        upload.held = held;
    }
    let cleanup = match s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => cleanup_for(out.rules(), folder),
        Err(err) => match err.as_service_error().map(|e| e.meta().code()) {
            Some(Some("NoSuchLifecycleConfiguration")) => Cleanup::None,
            _ => Cleanup::Unknown(
                crate::aws::s3_failure(err, Action::GetLifecycleConfiguration, &arn).to_string(),
            ),
        },
    };
    Ok(UnfinishedList {
        uploads,
        more,
        cleanup,
    })
}

async fn list(
    s3: Client,
    bucket: String,
    folder: String,
) -> Result<
    aws_sdk_s3::operation::list_multipart_uploads::ListMultipartUploadsOutput,
    SdkError<ListMultipartUploadsError, HttpResponse>,
> {
    s3.list_multipart_uploads()
        .bucket(bucket)
        .prefix(folder)
        .max_uploads(MOST as i32)
        .send()
        .await
}

/// Whether the bucket's lifecycle rules abort the folder's unfinished uploads.
pub fn cleanup_for(rules: &[LifecycleRule], folder: &str) -> Cleanup {
    abort_after_days(rules, folder).map_or(Cleanup::None, Cleanup::AfterDays)
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::types::{
        AbortIncompleteMultipartUpload, ExpirationStatus, LifecycleRuleFilter,
    };

    use super::*;

    fn rule(prefix: &str, days: i32, enabled: bool) -> LifecycleRule {
        let status = match enabled {
            true => ExpirationStatus::Enabled,
            false => ExpirationStatus::Disabled,
        };
        LifecycleRule::builder()
            .status(status)
            .filter(LifecycleRuleFilter::builder().prefix(prefix).build())
            .abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(days)
                    .build(),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn a_rule_cleans_up_a_folder_only_if_it_covers_all_of_it() {
        let rules = [
            rule("logs/", 3, true),
            rule("", 9, true),
            rule("", 1, false),
        ];
        assert_eq!(cleanup_for(&rules, "logs/2024/"), Cleanup::AfterDays(3));
        assert_eq!(cleanup_for(&rules, "data/"), Cleanup::AfterDays(9));
        assert_eq!(cleanup_for(&rules[..1], "data/"), Cleanup::None);
        assert_eq!(cleanup_for(&rules[2..], ""), Cleanup::None);
        assert_eq!(cleanup_for(&[], ""), Cleanup::None);
    }
}
