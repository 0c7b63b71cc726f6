//! Server side of transfers: assume for one key and one action, sign or call, drop. Each
//! function is one request and one AssumeRole; no byte of an object passes through here.

use std::time::Duration;

use aws_sdk_s3::{
    presigning::PresigningConfig,
    types::{CompletedMultipartUpload, CompletedPart},
};
use serde_json::json;

use super::{SentPart, UploadPlan, UploadRules};
use crate::{
    audit::ssr::{record, Event},
    aws::{s3_failure, Assumed, Scope},
    browse::{
        location::{folder_of, name_in},
        ssr::{bucket_arn, in_bucket_region, plausible_bucket_name, signing_client},
    },
    connections::{ssr::assume_for, Connection},
    error::AppError,
    state::AppState,
};

/// One object of one of the user's connections, checked for shape before AWS is asked.
pub struct Target<'a> {
    pub state: &'a AppState,
    pub user: i64,
    pub connection: i64,
    pub bucket: &'a str,
    pub key: &'a str,
}

impl<'a> Target<'a> {
    pub fn new(
        state: &'a AppState,
        user: i64,
        connection: i64,
        bucket: &'a str,
        key: &'a str,
    ) -> Result<Self, AppError> {
        if !plausible_bucket_name(bucket) {
            return Err(AppError::BucketNameInvalid);
        }
        if key.is_empty() || key.len() > 1024 {
            return Err(AppError::KeyInvalid);
        }
        Ok(Target {
            state,
            user,
            connection,
            bucket,
            key,
        })
    }

    /// Assumes the role for `actions` on this key only.
    pub(crate) async fn assume(
        &self,
        actions: Vec<&'static str>,
        purpose: &'static str,
    ) -> Result<(Connection, Assumed), AppError> {
        let scope = Scope::Object {
            bucket: self.bucket.to_owned(),
            key: self.key.to_owned(),
            actions,
            purpose,
        };
        assume_for(self.state, self.user, self.connection, &scope).await
    }

    /// Assumes the role for listing this key's versions and `actions` on it.
    pub(crate) async fn assume_versions(
        &self,
        actions: Vec<&'static str>,
        purpose: &'static str,
    ) -> Result<(Connection, Assumed), AppError> {
        let scope = Scope::Versions {
            bucket: self.bucket.to_owned(),
            key: self.key.to_owned(),
            actions,
            purpose,
        };
        assume_for(self.state, self.user, self.connection, &scope).await
    }

    /// Assumes the role for presigning `action` on this key, for a session that outlives the URL.
    async fn assume_to_sign(
        &self,
        action: &'static str,
        purpose: &'static str,
    ) -> Result<(Connection, Assumed), AppError> {
        let scope = Scope::Presign {
            bucket: self.bucket.to_owned(),
            key: self.key.to_owned(),
            action,
            url_seconds: self.state.config.presign_seconds,
            purpose,
        };
        assume_for(self.state, self.user, self.connection, &scope).await
    }

    fn arn(&self, connection: &Connection) -> String {
        format!("{}/{}", bucket_arn(connection, self.bucket), self.key)
    }

    fn expires(&self) -> Result<PresigningConfig, AppError> {
        let seconds = self.state.config.presign_seconds.into();
        PresigningConfig::expires_in(Duration::from_secs(seconds)).map_err(AppError::internal)
    }

    /// What the server itself did to the object (beyond the assumption), in the audit log.
    pub(crate) async fn audit<T>(
        &self,
        action: &str,
        result: &Result<T, AppError>,
        detail: serde_json::Value,
    ) -> Result<(), AppError> {
        let outcome = match result {
            Ok(_) => "ok".to_owned(),
            Err(err) => err.code(),
        };
        let event = Event {
            actor_id: Some(self.user),
            connection_id: Some(self.connection),
            action,
            bucket: Some(self.bucket),
            key: Some(self.key),
            outcome: &outcome,
            detail: Some(detail),
            ..Event::default()
        };
        record(&self.state.pool, event).await
    }
}

/// The body of every server function about one key: the signed-in user, the key checked for
/// shape, `run` on it, and the error's HTTP status on failure.
pub async fn for_key<T>(
    connection: i64,
    bucket: &str,
    key: &str,
    run: impl AsyncFnOnce(&Target<'_>) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let result = async {
        let user = crate::auth::ssr::require_user().await?;
        let state = AppState::current();
        let target = Target::new(&state, user.id, connection, bucket, key)?;
        run(&target).await
    }
    .await;
    crate::forms::ssr::with_status(result)
}

/// A presigned GET for the key that saves under the key's own name. A HeadObject first proves
/// that the role may read it and that it exists, so a refusal is explained on Crossview's page,
/// not by S3's XML in the browser. The assumed session lasts at least as long as the URL.
pub async fn download_url(target: &Target<'_>, version: Option<&str>) -> Result<String, AppError> {
    // An old version is another permission.
    let action = match version {
        Some(_) => "s3:GetObjectVersion",
        None => "s3:GetObject",
    };
    let (connection, assumed) = target.assume_to_sign(action, "download").await?;
    let arn = target.arn(&connection);
    let (bucket, key) = (target.bucket, target.key);
    let version = version.map(str::to_owned);
    let (_, s3) = in_bucket_region(target.state, &assumed, bucket, (action, &arn), |s3| {
        let version = version.clone();
        async move {
            s3.head_object()
                .bucket(bucket)
                .key(key)
                .set_version_id(version)
                .send()
                .await
        }
    })
    .await?;
    let presigned = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version)
        .response_content_disposition(super::attachment(name_in(key, folder_of(key))))
        .presigned(target.expires()?)
        .await
        .map_err(|err| s3_failure(err, "s3:GetObject", &arn))?;
    Ok(presigned.uri().to_owned())
}

/// A presigned inline GET for previews. Text is served as `text/plain` whatever the object
/// says it is, so that the page only ever treats it as text.
pub async fn preview_url(
    target: &Target<'_>,
    kind: super::PreviewKind,
) -> Result<String, AppError> {
    let (connection, assumed) = target.assume_to_sign("s3:GetObject", "preview").await?;
    let arn = target.arn(&connection);
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
        .map_err(|err| s3_failure(err, "s3:GetObject", &arn))?;
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
    rules.check(
        name_in(target.key, folder_of(target.key)),
        content_type,
        size,
    )?;
    if size <= rules.multipart_threshold {
        let (connection, assumed) = target.assume_to_sign("s3:PutObject", "upload").await?;
        let arn = target.arn(&connection);
        let s3 = signing_client(target.state, &assumed, target.bucket).await?;
        // The content type is signed: the browser must send the one that was checked.
        let presigned = s3
            .put_object()
            .bucket(target.bucket)
            .key(target.key)
            .content_type(content_type)
            .presigned(target.expires()?)
            .await
            .map_err(|err| s3_failure(err, "s3:PutObject", &arn))?;
        return Ok(UploadPlan::Single {
            url: presigned.uri().to_owned(),
            content_type: content_type.to_owned(),
        });
    }
    let (connection, assumed) = target.assume(vec!["s3:PutObject"], "upload").await?;
    let arn = target.arn(&connection);
    let (bucket, key) = (target.bucket, target.key);
    let created = in_bucket_region(
        target.state,
        &assumed,
        bucket,
        ("s3:PutObject", &arn),
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
    target.audit("upload.start", &created, detail).await?;
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
    let (connection, assumed) = target
        .assume_to_sign("s3:PutObject", "upload.parts")
        .await?;
    let arn = target.arn(&connection);
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
            .map_err(|err| s3_failure(err, "s3:PutObject", &arn))?;
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
    let (connection, assumed) = target
        .assume(vec!["s3:PutObject"], "upload.complete")
        .await?;
    let arn = target.arn(&connection);
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
        ("s3:PutObject", &arn),
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
    target.audit("upload.complete", &result, detail).await?;
    result
}

/// Aborts a multipart upload: S3 drops the parts already sent.
pub async fn abort_upload(target: &Target<'_>, upload_id: &str) -> Result<(), AppError> {
    let (connection, assumed) = target
        .assume(vec!["s3:AbortMultipartUpload"], "upload.abort")
        .await?;
    let arn = target.arn(&connection);
    let (bucket, key) = (target.bucket, target.key);
    let result = in_bucket_region(
        target.state,
        &assumed,
        bucket,
        ("s3:AbortMultipartUpload", &arn),
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
    target.audit("upload.abort", &result, json!({})).await?;
    result
}
