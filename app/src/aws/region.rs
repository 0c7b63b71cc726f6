//! Calling S3 in a bucket's own region. A bucket's region is learnt from S3's answers (never
//! asked for with extra permissions) and remembered per endpoint: it is not a secret.

use std::{fmt::Debug, future::Future};

use aws_sdk_s3::{
    config::http::HttpResponse,
    error::{ProvideErrorMetadata, SdkError},
};

use super::{region_redirect, s3_failure, Assumed};
use crate::{error::AppError, iam::Action, state::AppState};

/// The bucket's region: as this process remembers it, else as Postgres does.
async fn cached_region(
    state: &AppState,
    endpoint: &str,
    bucket: &str,
) -> Result<Option<String>, AppError> {
    if let Some(known) = state.aws.known_region(endpoint, bucket) {
        return Ok(known);
    }
    let region = sqlx::query_scalar!(
        "select region from bucket_regions where endpoint = $1 and bucket = $2",
        endpoint,
        bucket
    )
    .fetch_optional(&state.pool)
    .await?;
    state.aws.learn_region(endpoint, bucket, region.as_deref());
    Ok(region)
}

pub async fn remember_region(
    state: &AppState,
    endpoint: &str,
    bucket: &str,
    region: &str,
) -> Result<(), AppError> {
    sqlx::query!(
        "insert into bucket_regions (endpoint, bucket, region) values ($1, $2, $3)
         on conflict (endpoint, bucket) do update set region = excluded.region, seen_at = now()",
        endpoint,
        bucket,
        region
    )
    .execute(&state.pool)
    .await?;
    state.aws.learn_region(endpoint, bucket, Some(region));
    Ok(())
}

/// Runs one S3 call in the bucket's region: the remembered one, or the default; when S3 answers
/// that the bucket lives elsewhere, remembers the region it names and calls once more (same
/// credentials: still one assumption). Failures come back classified for `action` on `resource`.
/// Returns the client that reached the bucket, for any further call in the same request.
pub async fn in_bucket_region<T, E, Fut>(
    state: &AppState,
    assumed: &Assumed,
    bucket: &str,
    (action, resource): (Action, &str),
    call: impl Fn(aws_sdk_s3::Client) -> Fut,
) -> Result<(T, aws_sdk_s3::Client), AppError>
where
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + Debug,
{
    // S3-compatible stores have one endpoint for every bucket: regions do not apply.
    let endpoint = assumed.s3_endpoint_key();
    let cached = match assumed.is_aws() {
        true => cached_region(state, endpoint, bucket).await?,
        false => None,
    };
    let s3 = assumed.s3(cached.as_deref());
    match call(s3.clone()).await {
        Ok(out) => Ok((out, s3)),
        Err(err) => match region_redirect(&err) {
            Some(region) if assumed.is_aws() && cached.as_deref() != Some(region.as_str()) => {
                remember_region(state, endpoint, bucket, &region).await?;
                let s3 = assumed.s3(Some(&region));
                match call(s3.clone()).await {
                    Ok(out) => Ok((out, s3)),
                    Err(err) => Err(s3_failure(err, action, resource)),
                }
            }
            _ => Err(s3_failure(err, action, resource)),
        },
    }
}

/// A client in the bucket's region for presigning, where no call of the request's own reveals
/// the region: the remembered one, else HeadBucket's `x-amz-bucket-region`, which S3 sends even
/// when it refuses the caller (a role that may only upload gets a 403 that still names it).
pub async fn signing_client(
    state: &AppState,
    assumed: &Assumed,
    bucket: &str,
) -> Result<aws_sdk_s3::Client, AppError> {
    if !assumed.is_aws() {
        return Ok(assumed.s3(None));
    }
    let endpoint = assumed.s3_endpoint_key();
    if let Some(region) = cached_region(state, endpoint, bucket).await? {
        return Ok(assumed.s3(Some(&region)));
    }
    let s3 = assumed.s3(None);
    let region = match s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => out.bucket_region().map(str::to_owned),
        Err(SdkError::ServiceError(refused)) => refused
            .raw()
            .headers()
            .get("x-amz-bucket-region")
            .map(str::to_owned),
        Err(_) => None,
    };
    match region.filter(|r| !r.is_empty()) {
        Some(region) => {
            remember_region(state, endpoint, bucket, &region).await?;
            Ok(assumed.s3(Some(&region)))
        }
        None => Ok(s3),
    }
}

/// One page of a folder, in the bucket's region: a single ListObjectsV2 with delimiter `/` under
/// `prefix`, `per` keys at most, from S3's continuation `token`; the cost of a page does not
/// depend on how many keys the bucket holds. `arn` is the bucket's, for what a refusal says.
pub async fn folder_page(
    state: &AppState,
    assumed: &Assumed,
    (bucket, arn): (&str, &str),
    prefix: &str,
    per: i32,
    token: Option<String>,
) -> Result<aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output, AppError> {
    let token = token.filter(|t| !t.is_empty());
    let (out, _) = in_bucket_region(state, assumed, bucket, (Action::ListBucket, arn), |s3| {
        let token = token.clone();
        async move {
            s3.list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .delimiter("/")
                .max_keys(per)
                .set_continuation_token(token)
                .send()
                .await
        }
    })
    .await?;
    Ok(out)
}
