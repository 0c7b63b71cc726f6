//! Server side of transfers: assume for one key and one action, sign or call, drop. Each
//! function is one request and one AssumeRole; no byte of an object passes through here.

mod existing;
mod resume;
pub mod ticket;
mod unfinished;

use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use serde_json::json;

use aws_sdk_s3::{
    config::http::HttpResponse, error::SdkError, operation::list_parts::ListPartsError,
};

use super::{rules::UploadRules, MultipartUpload, PartUrls, SentPart, UploadPlan};
use crate::{
    audit::Activity,
    aws::{
        access::Target,
        region::{in_bucket_region, signing_client},
        s3_failure,
    },
    error::AppError,
    format::human_size,
    iam::Action,
    location::{folder_of, name_in},
};

pub use existing::existing;
use resume::{held_parts, unfinished as resumable};
pub use unfinished::{cleanup_for, unfinished};

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
        .presigned(target.expires(&role)?)
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
    replace: bool,
) -> Result<UploadPlan, AppError> {
    // `If-None-Match: *`: S3 writes only where no object is.
    let only_new = (!replace).then(|| "*".to_owned());
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
        // The content type and length are signed: the browser must send exactly the file that
        // was checked, not a larger one or another kind on the same URL.
        let presigned = s3
            .put_object()
            .bucket(target.bucket)
            .key(target.key)
            .content_type(content_type)
            .content_length(length(size)?)
            .set_if_none_match(only_new)
            .presigned(target.expires(&role)?)
            .await
            .map_err(|err| s3_failure(err, Action::PutObject, &arn))?;
        return Ok(UploadPlan::Single {
            url: presigned.uri().to_owned(),
            content_type: content_type.to_owned(),
            if_none_match: !replace,
        });
    }
    let (role, assumed) = target
        .assume(
            vec![
                Action::PutObject,
                Action::ListBucketMultipartUploads,
                Action::ListMultipartUploadParts,
            ],
            Activity::Upload,
        )
        .await?;
    let arn = target.arn(&role);
    let (bucket, key) = (target.bucket, target.key);
    let (part_size, parts) = UploadRules::parts(size);
    // S3's own record of an unfinished upload of this key is where an interrupted one goes on
    // (a role that may not list uploads starts a new one).
    let (found, s3) = match in_bucket_region(
        target.state,
        &assumed,
        bucket,
        (Action::ListBucketMultipartUploads, &arn),
        |s3| async move {
            s3.list_multipart_uploads()
                .bucket(bucket)
                .prefix(key)
                .send()
                .await
        },
    )
    .await
    {
        Ok((listed, s3)) => (resumable(&s3, target, &listed, size).await, s3),
        Err(AppError::Denied { .. }) => {
            (None, signing_client(target.state, &assumed, bucket).await?)
        }
        Err(err) => return Err(err),
    };
    let (created, held) = match found {
        Some((id, held)) => (Ok(id), held),
        None => {
            let created = s3
                .create_multipart_upload()
                .bucket(bucket)
                .key(key)
                .content_type(content_type)
                .send()
                .await
                .map_err(|err| s3_failure(err, Action::PutObject, &arn))
                .and_then(|out| {
                    out.upload_id
                        .ok_or_else(|| AppError::internal("no UploadId"))
                });
            (created, Vec::new())
        }
    };
    let detail = json!({
        "size": size,
        "multipart": true,
        "resumed": !held.is_empty(),
        "parts_held": held.len(),
    });
    target
        .audit(&role, Activity::UploadStart, &created, detail)
        .await?;
    let upload_id = created?;
    let ticket = ticket::issue(target, &role, &upload_id, size);
    Ok(UploadPlan::Multipart {
        upload: MultipartUpload {
            id: upload_id,
            ticket,
        },
        part_size,
        parts,
        parallel: rules.parallel_parts,
        held,
    })
}

/// A size as S3's `Content-Length`.
fn length(size: u64) -> Result<i64, AppError> {
    i64::try_from(size).map_err(|_| AppError::Request("size out of range".into()))
}

/// Presigned URLs for parts `first..first + count` (at most 100 at a time), on one assumption.
/// Which parts exist, and each one's length, follow from the size declared at the start (read
/// from the upload's ticket); each URL signs its part's length, so no part can carry more.
pub async fn part_urls(
    target: &Target<'_>,
    upload: &MultipartUpload,
    first: i32,
    count: i32,
) -> Result<PartUrls, AppError> {
    let size = ticket::declared_size(target, upload)?;
    let (part_size, parts) = UploadRules::parts(size);
    let parts = i64::from(parts);
    let (first, count) = (i64::from(first), i64::from(count));
    if first < 1 || !(1..=100).contains(&count) || first + count - 1 > parts {
        return Err(AppError::Request(format!(
            "this upload has parts 1 to {parts}, asked at most 100 at a time"
        )));
    }
    let (role, assumed) = target
        .assume_to_sign(Action::PutObject, Activity::UploadParts)
        .await?;
    let arn = target.arn(&role);
    let s3 = signing_client(target.state, &assumed, target.bucket).await?;
    let mut urls = Vec::with_capacity(count as usize);
    for number in first..first + count {
        let start = (number as u64 - 1) * part_size;
        let this_part = part_size.min(size - start);
        let presigned = s3
            .upload_part()
            .bucket(target.bucket)
            .key(target.key)
            .upload_id(&upload.id)
            .part_number(number as i32)
            .content_length(length(this_part)?)
            .presigned(target.expires(&role)?)
            .await
            .map_err(|err| s3_failure(err, Action::PutObject, &arn))?;
        urls.push(presigned.uri().to_owned());
    }
    let ticket = ticket::issue(target, &role, &upload.id, size);
    Ok(PartUrls { urls, ticket })
}

/// Completes a multipart upload from the parts' ETags (S3 checks each one), once the parts S3
/// holds (ListParts) add up to exactly the size declared at the start. Otherwise the upload is
/// aborted, so nothing larger (or other) than what the deployment's rules admitted is stored.
pub async fn complete_upload(
    target: &Target<'_>,
    upload: &MultipartUpload,
    mut parts: Vec<SentPart>,
    replace: bool,
) -> Result<(), AppError> {
    let declared = ticket::declared_size(target, upload)?;
    if parts.is_empty() || parts.len() > 10_000 {
        return Err(AppError::Request("an upload has 1 to 10000 parts".into()));
    }
    parts.sort_by_key(|p| p.number);
    let (role, assumed) = target
        .assume(
            vec![
                Action::PutObject,
                Action::ListMultipartUploadParts,
                Action::AbortMultipartUpload,
            ],
            Activity::UploadComplete,
        )
        .await?;
    let arn = target.arn(&role);
    let (bucket, key, upload_id) = (target.bucket, target.key, upload.id.as_str());
    let result = in_bucket_region(
        target.state,
        &assumed,
        bucket,
        (Action::ListMultipartUploadParts, &arn),
        |s3| async move {
            let held = held_parts(&s3, bucket, key, upload_id).await?;
            Ok::<_, SdkError<ListPartsError, HttpResponse>>(
                held.iter().map(|(_, length, _)| length).sum::<u64>(),
            )
        },
    )
    .await;
    let result = match result {
        Ok((sent, s3)) if sent == declared => {
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
            s3.complete_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .multipart_upload(completed)
                .set_if_none_match((!replace).then(|| "*".to_owned()))
                .send()
                .await
                .map(|_| ())
                .map_err(|err| s3_failure(err, Action::PutObject, &arn))
        }
        Ok((sent, s3)) => {
            // Not what was declared and checked: nothing of it may stay in the bucket.
            let _ = s3
                .abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .send()
                .await;
            Err(AppError::UploadSizeMismatch {
                sent: human_size(sent),
                declared: human_size(declared),
            })
        }
        Err(err) => Err(err),
    };
    let detail = json!({ "parts": parts.len(), "size": declared });
    target
        .audit(&role, Activity::UploadComplete, &result, detail)
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
        .audit(&role, Activity::UploadAbort, &result, json!({}))
        .await?;
    result
}
