//! Which of the keys an upload would write exist already, asked before the upload so that the
//! user chooses (replace, keep both, skip) instead of losing an object. S3's conditional write
//! (`If-None-Match: *`) then makes sure nothing appeared in the meantime.

use aws_sdk_s3::{
    config::http::HttpResponse, error::SdkError, operation::list_objects_v2::ListObjectsV2Error,
    operation::list_objects_v2::ListObjectsV2Output, Client,
};
use futures::{stream, StreamExt, TryStreamExt};

use crate::{
    audit::Activity,
    aws::{
        access::assume_for, bucket::plausible_bucket_name, region::in_bucket_region, s3_failure,
        Scope, MAX_KEY_BYTES,
    },
    error::AppError,
    iam::Action,
    state::AppState,
};

/// Keys one request checks at most.
pub const MOST: usize = 100;

/// The keys among `keys` (all in `folder` of `bucket`) that name an object, on one assumption
/// that may list the folder and nothing else: a one-key listing from each key on, eight at once.
pub async fn existing(
    state: &AppState,
    user: i64,
    connection: i64,
    (bucket, folder): (&str, &str),
    keys: &[String],
) -> Result<Vec<String>, AppError> {
    if !plausible_bucket_name(bucket) {
        return Err(AppError::BucketNameInvalid);
    }
    if keys.len() > MOST {
        return Err(AppError::Request(format!(
            "ask about {MOST} names at most at a time"
        )));
    }
    let fits = |k: &String| !k.is_empty() && k.len() <= MAX_KEY_BYTES && k.starts_with(folder);
    if !keys.iter().all(fits) || folder.len() > MAX_KEY_BYTES {
        return Err(AppError::KeyInvalid);
    }
    let Some(first) = keys.first() else {
        return Ok(Vec::new());
    };
    let scope = Scope::Folders {
        bucket: bucket.to_owned(),
        within: folder.to_owned(),
        grants: Vec::new(),
        purpose: Activity::UploadCheck,
        url_seconds: 0,
    };
    let (role, assumed) = assume_for(state, user, connection, &scope).await?;
    let arn = role.bucket_arn(bucket);
    let (listed, s3) =
        in_bucket_region(state, &assumed, bucket, (Action::ListBucket, &arn), |s3| {
            from_key(s3, bucket.to_owned(), first.clone())
        })
        .await?;
    let rest: Vec<bool> = stream::iter(keys[1..].to_vec())
        .map(|key| {
            let (s3, bucket) = (s3.clone(), bucket.to_owned());
            async move {
                let listed = from_key(s3, bucket, key.clone()).await?;
                Ok::<_, SdkError<ListObjectsV2Error, HttpResponse>>(names(&listed, &key))
            }
        })
        .buffered(8)
        .try_collect()
        .await
        .map_err(|err| s3_failure(err, Action::ListBucket, &arn))?;
    Ok(std::iter::once(names(&listed, first))
        .chain(rest)
        .zip(keys)
        .filter(|(taken, _)| *taken)
        .map(|(_, key)| key.clone())
        .collect())
}

/// The first key from `key` on (`start-after` cannot say "from", so: with `key` as the prefix).
async fn from_key(
    s3: Client,
    bucket: String,
    key: String,
) -> Result<ListObjectsV2Output, SdkError<ListObjectsV2Error, HttpResponse>> {
    s3.list_objects_v2()
        .bucket(bucket)
        .prefix(key)
        .max_keys(1)
        .send()
        .await
}

/// Whether the one-key listing is the key itself.
fn names(listed: &ListObjectsV2Output, key: &str) -> bool {
    listed.contents().first().and_then(|o| o.key()) == Some(key)
}
