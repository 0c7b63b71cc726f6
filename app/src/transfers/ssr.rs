//! Server side of transfers: assume for one key and one action, sign or call, drop. Each
//! function is one request and one AssumeRole; no byte of an object passes through here.

use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use serde_json::json;

use super::{rules::UploadRules, SentPart, UploadPlan};
use crate::{
    audit::Activity,
    aws::{
        access::Target,
        region::{in_bucket_region, signing_client},
        s3_failure,
    },
    error::AppError,
    iam::Action,
    location::{folder_of, name_in},
};

/// A presigned inline GET for previews. Text is served as `text/plain` whatever the object
/// says it is, so that the page only ever treats it as text.
pub async fn preview_url(
    target: &Target<'_>,
    kind: super::PreviewKind,
) -> Result<String, AppError> {
    let (role, assumed) = target
        .assume_to_sign(Action::GetObject, Activity::Preview)
        .await?;
    let arn = target.arn(&role);
    let s3 = signing_client(target.state, &assumed, target.bucket).await?;
    let request = s3
        .get_object()
        .bucket(target.bucket)
        .key(target.key)
        .response_content_disposition("inline");
    let request = match kind {
        super::PreviewKind::Text => request.response_content_type("text/plain; charset=utf-8"),
        _ => request,
    };
    let presigned = request
        .presigned(target.expires()?)
        .await
        .map_err(|err| s3_failure(err, Action::GetObject, &arn))?;
    Ok(presigned.uri().to_owned())
}

/// Checks the deployment's rules, then either signs one PUT (small files) or creates a
/// multipart upload whose parts the browser sends on URLs signed in batches.
pub async fn start_upload(
    target: &Target<'_>,
    size: u64,
    content_type: &str,
) -> Result<UploadPlan, AppError> {
    let rules = &target.state.config.uploads;
    let content_type = match content_type.trim() {
        "" => "application/octet-stream",
        given => given,
    };
    UploadRules(rules).check(
        name_in(target.key, folder_of(target.key)),
        content_type,
        size,
    )?;
    if size <= rules.multipart_threshold {
        let (role, assumed) = target
            .assume_to_sign(Action::PutObject, Activity::Upload)
            .await?;
        let arn = target.arn(&role);
        let s3 = signing_client(target.state, &assumed, target.bucket).await?;
        // The content type is signed: the browser must send the one that was checked.
        let presigned = s3
            .put_object()
            .bucket(target.bucket)
            .key(target.key)
            .content_type(content_type)
            .presigned(target.expires()?)
            .await
            .map_err(|err| s3_failure(err, Action::PutObject, &arn))?;
        return Ok(UploadPlan::Single {
            url: presigned.uri().to_owned(),
            content_type: content_type.to_owned(),
        });
    }
    let (role, assumed) = target
        .assume(vec![Action::PutObject], Activity::Upload)
        .await?;
    let arn = target.arn(&role);
    let (bucket, key) = (target.bucket, target.key);
    let created = in_bucket_region(
        target.state,
        &assumed,
        bucket,
        (Action::PutObject, &arn),
        |s3| async move {
            s3.create_multipart_upload()
                .bucket(bucket)
                .key(key)
                .content_type(content_type)
                .send()
                .await
        },
    )
    .await
    .map(|(out, _)| out);
    let detail = json!({ "size": size, "multipart": true });
    target
        .audit(Activity::UploadStart, &created, detail)
        .await?;
    let upload_id = created?
        .upload_id
        .ok_or_else(|| AppError::internal("no UploadId"))?;
    let part_size = UploadRules::part_size(size);
    Ok(UploadPlan::Multipart {
        upload_id,
        part_size,
        parts: size.div_ceil(part_size).max(1) as u32,
        parallel: rules.parallel_parts,
    })
}

/// Presigned URLs for parts `first..first + count` (at most 100 at a time), on one assumption.
pub async fn part_urls(
    target: &Target<'_>,
    upload_id: &str,
    first: i32,
    count: i32,
) -> Result<Vec<String>, AppError> {
    if !(1..=10_000).contains(&first) || !(1..=100).contains(&count) || first + count > 10_001 {
        return Err(AppError::Request("part numbers run from 1 to 10000".into()));
    }
    let (role, assumed) = target
        .assume_to_sign(Action::PutObject, Activity::UploadParts)
        .await?;
    let arn = target.arn(&role);
    let s3 = signing_client(target.state, &assumed, target.bucket).await?;
    let mut urls = Vec::with_capacity(count as usize);
    for number in first..first + count {
        let presigned = s3
            .upload_part()
            .bucket(target.bucket)
            .key(target.key)
            .upload_id(upload_id)
            .part_number(number)
            .presigned(target.expires()?)
            .await
            .map_err(|err| s3_failure(err, Action::PutObject, &arn))?;
        urls.push(presigned.uri().to_owned());
    }
    Ok(urls)
}

/// Completes a multipart upload from the parts' ETags (S3 checks each one).
pub async fn complete_upload(
    target: &Target<'_>,
    upload_id: &str,
    mut parts: Vec<SentPart>,
) -> Result<(), AppError> {
    if parts.is_empty() || parts.len() > 10_000 {
        return Err(AppError::Request("an upload has 1 to 10000 parts".into()));
    }
    parts.sort_by_key(|p| p.number);
    let (role, assumed) = target
        .assume(vec![Action::PutObject], Activity::UploadComplete)
        .await?;
    let arn = target.arn(&role);
    let completed = CompletedMultipartUpload::builder()
        .set_parts(Some(
            parts
                .iter()
                .map(|p| {
                    CompletedPart::builder()
                        .part_number(p.number)
                        .e_tag(&p.etag)
                        .build()
                })
                .collect(),
        ))
        .build();
    let (bucket, key) = (target.bucket, target.key);
    let result = in_bucket_region(
        target.state,
        &assumed,
        bucket,
        (Action::PutObject, &arn),
        |s3| {
            let completed = completed.clone();
            async move {
                s3.complete_multipart_upload()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(upload_id)
                    .multipart_upload(completed)
                    .send()
                    .await
            }
        },
    )
    .await
    .map(|_| ());
    let detail = json!({ "parts": parts.len() });
    target
        .audit(Activity::UploadComplete, &result, detail)
        .await?;
    result
}

/// Aborts a multipart upload: S3 drops the parts already sent.
pub async fn abort_upload(target: &Target<'_>, upload_id: &str) -> Result<(), AppError> {
    let (role, assumed) = target
        .assume(vec![Action::AbortMultipartUpload], Activity::UploadAbort)
        .await?;
    let arn = target.arn(&role);
    let (bucket, key) = (target.bucket, target.key);
    let result = in_bucket_region(
        target.state,
        &assumed,
        bucket,
        (Action::AbortMultipartUpload, &arn),
        |s3| async move {
            s3.abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .send()
                .await
        },
    )
    .await
    .map(|_| ());
    target
        .audit(Activity::UploadAbort, &result, json!({}))
        .await?;
    result
}
