//! Copy, move and rename of objects and folders: S3 copies (CopyObject, or a multipart copy past
//! 5 GiB); the bytes never reach Crossview.

use aws_sdk_s3::{
    types::{CompletedMultipartUpload, CompletedPart},
    Client,
};
use futures::{stream, StreamExt};
use serde_json::json;

use super::{assume_folders, audit, bucket_client, delete_batch, Walk};
use crate::{
    audit::Activity,
    aws::{region::in_bucket_region, s3_failure},
    error::AppError,
    iam::Action,
    location::folder_of,
    objects::{destination, Report},
    state::AppState,
    url::encode_component,
};

/// CopyObject copies at most 5 GiB; larger objects are copied in parts of this size.
const COPY_LIMIT: i64 = 5 << 30;
const COPY_PART: i64 = 512 << 20;
/// Copies (or multipart parts) in flight at once within one request.
const CONCURRENT_COPIES: usize = 8;

pub async fn copy(
    state: &AppState,
    user: i64,
    connection: i64,
    bucket: &str,
    from: &str,
    to: &str,
    remove_source: bool,
) -> Result<Report, AppError> {
    let folder = from.ends_with('/');
    let bad = from.is_empty()
        || to.is_empty()
        || from == to
        || to.len() > 1024
        || folder != to.ends_with('/')
        || (folder && to.starts_with(from));
    if bad {
        return Err(AppError::Request(
            "choose a different destination: a folder goes to a folder (ending in /), not inside itself; an object to a new key".into(),
        ));
    }
    let mut source = vec![Action::GetObject, Action::GetObjectTagging];
    if remove_source {
        source.push(Action::DeleteObject);
    }
    let grants = vec![
        (from.to_owned(), source),
        (
            to.to_owned(),
            vec![Action::PutObject, Action::PutObjectTagging],
        ),
    ];
    let purpose = if remove_source {
        Activity::Move
    } else {
        Activity::Copy
    };
    let (role, assumed) =
        assume_folders(state, user, connection, (bucket, from), grants, purpose).await?;
    let arn = role.bucket_arn(bucket);
    let mut report = Report::default();
    let listed_from = if folder { from } else { folder_of(from) };
    let (s3, first) = match folder {
        true => bucket_client(state, &assumed, bucket, &arn, from).await?,
        // One object: a HEAD finds the bucket's region and the size (no listing needed).
        false => {
            let object = format!("{arn}/{from}");
            let (head, s3) = in_bucket_region(
                state,
                &assumed,
                bucket,
                (Action::GetObject, &object),
                |s3| async move { s3.head_object().bucket(bucket).key(from).send().await },
            )
            .await?;
            let size = head.content_length().unwrap_or_default();
            (s3, (vec![(from.to_owned(), size)], None))
        }
    };
    let mut walk = Walk::new(&s3, bucket, listed_from, &arn, first);
    while let Some(page) = walk.page().await? {
        let arn = &arn;
        let copied: Vec<(String, Result<(), AppError>)> = stream::iter(page)
            .map(|(key, size)| {
                let s3 = s3.clone();
                async move {
                    let target = destination(&key, from, to);
                    let result = copy_one(&s3, bucket, arn, &key, &target, size).await;
                    (key, result)
                }
            })
            .buffer_unordered(CONCURRENT_COPIES)
            .collect()
            .await;
        let mut done = Vec::new();
        for (key, result) in copied {
            match result {
                Ok(()) => done.push(key),
                Err(err) => report.failed.push((key, err.to_string())),
            }
        }
        if remove_source {
            // Only sources whose copy exists are deleted: a failure midway loses nothing.
            for batch in done.chunks(1000) {
                delete_batch(&s3, bucket, arn, batch, &mut report).await?;
            }
        } else {
            report.done += done.len() as u64;
        }
    }
    let detail =
        json!({ "from": from, "to": to, "done": report.done, "failed": report.failed.len() });
    audit(state, user, &role, purpose, bucket, from, &report, detail).await?;
    Ok(report)
}

/// One object to a new key: CopyObject, or a multipart copy above S3's 5 GiB limit.
async fn copy_one(
    s3: &Client,
    bucket: &str,
    arn: &str,
    from: &str,
    to: &str,
    size: i64,
) -> Result<(), AppError> {
    let source = format!("{bucket}/{}", encode_component(from));
    let dest = format!("{arn}/{to}");
    if size <= COPY_LIMIT {
        s3.copy_object()
            .bucket(bucket)
            .key(to)
            .copy_source(&source)
            .send()
            .await
            .map_err(|err| s3_failure(err, Action::GetObject, &format!("{arn}/{from}")))?;
        return Ok(());
    }
    let created = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(to)
        .send()
        .await
        .map_err(|err| s3_failure(err, Action::PutObject, &dest))?;
    let upload_id = created.upload_id().unwrap_or_default().to_owned();
    let ranges: Vec<(i32, i64, i64)> = (0..(size + COPY_PART - 1) / COPY_PART)
        .map(|i| {
            (
                i as i32 + 1,
                i * COPY_PART,
                ((i + 1) * COPY_PART).min(size) - 1,
            )
        })
        .collect();
    let parts: Vec<Result<CompletedPart, AppError>> = stream::iter(ranges)
        .map(|(number, first, last)| {
            let (s3, source, upload_id) = (s3.clone(), source.clone(), upload_id.clone());
            let dest = &dest;
            async move {
                let out = s3
                    .upload_part_copy()
                    .bucket(bucket)
                    .key(to)
                    .upload_id(upload_id)
                    .part_number(number)
                    .copy_source(source)
                    .copy_source_range(format!("bytes={first}-{last}"))
                    .send()
                    .await
                    .map_err(|err| s3_failure(err, Action::PutObject, dest))?;
                let etag = out
                    .copy_part_result()
                    .and_then(|r| r.e_tag())
                    .unwrap_or_default();
                Ok(CompletedPart::builder()
                    .part_number(number)
                    .e_tag(etag)
                    .build())
            }
        })
        .buffered(CONCURRENT_COPIES)
        .collect()
        .await;
    let parts: Result<Vec<CompletedPart>, AppError> = parts.into_iter().collect();
    let completed = match parts {
        Ok(parts) => s3
            .complete_multipart_upload()
            .bucket(bucket)
            .key(to)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|err| s3_failure(err, Action::PutObject, &dest)),
        Err(err) => Err(err),
    };
    if completed.is_err() {
        let _ = s3
            .abort_multipart_upload()
            .bucket(bucket)
            .key(to)
            .upload_id(&upload_id)
            .send()
            .await;
    }
    completed
}
