//! An object's versions, and making an old one current again.

use serde_json::json;

use crate::{
    audit::Activity,
    aws::{access::Target, region::in_bucket_region},
    error::AppError,
    iam::Action,
    objects::Version,
    url::encode_component,
};

/// Up to 1000 versions of one key, newest first.
pub async fn versions(target: &Target<'_>) -> Result<Vec<Version>, AppError> {
    let (role, assumed) = target
        .assume_versions(vec![Action::GetObjectVersion], Activity::Versions)
        .await?;
    let arn = role.bucket_arn(target.bucket);
    let (bucket, key) = (target.bucket, target.key);
    let (out, _) = in_bucket_region(
        target.state,
        &assumed,
        bucket,
        (Action::ListBucketVersions, &arn),
        |s3| async move {
            s3.list_object_versions()
                .bucket(bucket)
                .prefix(key)
                .send()
                .await
        },
    )
    .await?;
    let time = |t: Option<&aws_sdk_s3::primitives::DateTime>| {
        t.and_then(|t| t.fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime).ok())
    };
    let mut all: Vec<Version> = out
        .versions()
        .iter()
        .filter(|v| v.key() == Some(key))
        .map(|v| Version {
            id: v.version_id().unwrap_or("null").to_owned(),
            size: v.size().unwrap_or_default(),
            last_modified: time(v.last_modified()),
            latest: v.is_latest().unwrap_or(false),
            deleted: false,
        })
        .chain(
            out.delete_markers()
                .iter()
                .filter(|m| m.key() == Some(key))
                .map(|m| Version {
                    id: m.version_id().unwrap_or("null").to_owned(),
                    size: 0,
                    last_modified: time(m.last_modified()),
                    latest: m.is_latest().unwrap_or(false),
                    deleted: true,
                }),
        )
        .collect();
    all.sort_by(|a, b| b.last_modified.cmp(&a.last_modified));
    Ok(all)
}

/// CopyObject of `version` over the key itself.
pub async fn restore_version(target: &Target<'_>, version: &str) -> Result<(), AppError> {
    if version.is_empty() || version.len() > 1024 {
        return Err(AppError::NotFound);
    }
    let (role, assumed) = target
        .assume_versions(
            vec![Action::GetObjectVersion, Action::PutObject],
            Activity::VersionRestore,
        )
        .await?;
    let arn = role.object_arn(target.bucket, target.key);
    let (bucket, key) = (target.bucket, target.key);
    let source = format!(
        "{bucket}/{}?versionId={}",
        encode_component(key),
        encode_component(version)
    );
    let result = in_bucket_region(
        target.state,
        &assumed,
        bucket,
        (Action::GetObjectVersion, &arn),
        |s3| {
            let source = source.clone();
            async move {
                s3.copy_object()
                    .bucket(bucket)
                    .key(key)
                    .copy_source(source)
                    .send()
                    .await
            }
        },
    )
    .await
    .map(|_| ());
    target
        .audit(
            &role,
            Activity::VersionRestore,
            &result,
            json!({ "version": version }),
        )
        .await?;
    result
}
