//! Server side of transfers: assume for one key and one action, sign or call, drop. Each
//! function is one request and one AssumeRole; no byte of an object passes through here.

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

/// A multipart upload's ticket: its declared size and when it expires, bound to the upload by
/// an HMAC under a key of its own, so the browser carries them between requests and can change
/// neither.
pub mod ticket {
    use hmac::{Hmac, Mac};
    use sha2::Sha256;
    use time::OffsetDateTime;

    use super::{AppError, MultipartUpload, Target};
    use crate::aws::access::Role;

    /// How long a ticket outlives the part URLs issued with it: a part sent just before its URL
    /// expired may still be arriving, and completion comes after the last part.
    pub const GRACE_SECS: i64 = 15 * 60;

    fn mac(target: &Target<'_>, upload_id: &str, size: u64, expires: i64) -> Hmac<Sha256> {
        // A key of its own, derived from SESSION_SECRET: nothing else it signs reads as a ticket.
        let key = target.state.config.subkey("crossview.upload-ticket.v1");
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
        // Each field is length-prefixed, so no two different uploads share a message.
        let fields = [
            "crossview.upload".as_bytes(),
            &target.user.to_be_bytes(),
            &target.connection.to_be_bytes(),
            target.bucket.as_bytes(),
            target.key.as_bytes(),
            upload_id.as_bytes(),
            &size.to_be_bytes(),
            &expires.to_be_bytes(),
        ];
        for field in fields {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field);
        }
        mac
    }

    /// A ticket for URLs signed now through `role`: `<size>.<expires, Unix seconds>.<hex HMAC>`.
    pub fn issue(target: &Target<'_>, role: &Role, upload_id: &str, size: u64) -> String {
        let expires = OffsetDateTime::now_utc().unix_timestamp()
            + i64::from(target.url_seconds(role))
            + GRACE_SECS;
        issue_until(target, upload_id, size, expires)
    }

    /// A ticket that expires at `expires` (Unix seconds).
    pub fn issue_until(target: &Target<'_>, upload_id: &str, size: u64, expires: i64) -> String {
        let tag = mac(target, upload_id, size, expires)
            .finalize()
            .into_bytes();
        format!("{size}.{expires}.{}", hex::encode(tag))
    }

    /// The size the upload was started with, if the ticket is this upload's, unaltered and
    /// unexpired.
    pub fn declared_size(target: &Target<'_>, upload: &MultipartUpload) -> Result<u64, AppError> {
        let refused = || AppError::Request("this upload's ticket is not valid".into());
        let mut fields = upload.ticket.splitn(3, '.');
        let (Some(size), Some(expires), Some(tag)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(refused());
        };
        let size: u64 = size.parse().map_err(|_| refused())?;
        let expires: i64 = expires.parse().map_err(|_| refused())?;
        let tag = hex::decode(tag).map_err(|_| refused())?;
        mac(target, &upload.id, size, expires)
            .verify_slice(&tag)
            .map_err(|_| refused())?;
        if OffsetDateTime::now_utc().unix_timestamp() > expires {
            return Err(AppError::Request(
                "this upload's ticket has expired: upload the file again".into(),
            ));
        }
        Ok(size)
    }
}

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
        // The content type and length are signed: the browser must send exactly the file that
        // was checked, not a larger one or another kind on the same URL.
        let presigned = s3
            .put_object()
            .bucket(target.bucket)
            .key(target.key)
            .content_type(content_type)
            .content_length(length(size)?)
            .presigned(target.expires(&role)?)
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
        .audit(&role, Activity::UploadStart, &created, detail)
        .await?;
    let upload_id = created?
        .upload_id
        .ok_or_else(|| AppError::internal("no UploadId"))?;
    let (part_size, parts) = UploadRules::parts(size);
    let ticket = ticket::issue(target, &role, &upload_id, size);
    Ok(UploadPlan::Multipart {
        upload: MultipartUpload {
            id: upload_id,
            ticket,
        },
        part_size,
        parts,
        parallel: rules.parallel_parts,
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
        |s3| async move { sent_bytes(&s3, bucket, key, upload_id).await },
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

/// The bytes S3 holds for an upload's parts, page by page (1000 parts a page).
async fn sent_bytes(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<u64, SdkError<ListPartsError, HttpResponse>> {
    let mut total = 0u64;
    let mut marker: Option<String> = None;
    loop {
        let page = s3
            .list_parts()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .set_part_number_marker(marker.take())
            .send()
            .await?;
        total += page
            .parts()
            .iter()
            .map(|p| p.size().unwrap_or(0).max(0) as u64)
            .sum::<u64>();
        match (page.is_truncated(), page.next_part_number_marker()) {
            (Some(true), Some(next)) => marker = Some(next.to_owned()),
            _ => return Ok(total),
        }
    }
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
