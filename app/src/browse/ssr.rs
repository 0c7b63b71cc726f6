//! Server side of browsing. Each function is one request: one owner-checked, audited
//! AssumeRole narrowed to what it does, a few S3 calls on those credentials, then they are
//! dropped. Only non-secrets are remembered: bucket names added by hand and bucket regions.

use std::{fmt::Debug, future::Future};

use aws_sdk_s3::{
    config::http::HttpResponse,
    error::{ProvideErrorMetadata, SdkError},
    primitives::{DateTime, DateTimeFormat},
};
use sqlx::PgPool;

use super::{
    valid_bucket_name, Bucket, BucketPage, Listing, ObjectDetails, ObjectEntry, PAGE_SIZE,
};
use crate::{
    audit::ssr::{record, Event},
    aws::{region_redirect, s3_failure, Assumed, Scope},
    connections::{ssr::assume_for, Connection},
    error::AppError,
    state::AppState,
};

/// Names of existing buckets, including legacy ones (uppercase, underscores) that new buckets may
/// no longer use; anything else cannot be a bucket and is refused before AWS is asked.
pub fn plausible_bucket_name(name: &str) -> bool {
    (1..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn rfc3339(t: &DateTime) -> Option<String> {
    t.fmt(DateTimeFormat::DateTime).ok()
}

/// `aws`, `aws-cn` or `aws-us-gov`, for the ARNs shown to the user and in policies.
fn partition(connection: &Connection) -> &str {
    connection
        .role_arn
        .as_deref()
        .and_then(|arn| arn.split(':').nth(1))
        .unwrap_or("aws")
}

pub fn bucket_arn(connection: &Connection, bucket: &str) -> String {
    format!("arn:{}:s3:::{bucket}", partition(connection))
}

async fn cached_region(
    pool: &PgPool,
    endpoint: &str,
    bucket: &str,
) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar!(
        "select region from bucket_regions where endpoint = $1 and bucket = $2",
        endpoint,
        bucket
    )
    .fetch_optional(pool)
    .await?)
}

async fn remember_region(
    pool: &PgPool,
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
    .execute(pool)
    .await?;
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
    (action, resource): (&str, &str),
    call: impl Fn(aws_sdk_s3::Client) -> Fut,
) -> Result<(T, aws_sdk_s3::Client), AppError>
where
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + Debug,
{
    // S3-compatible stores have one endpoint for every bucket: regions do not apply.
    let endpoint = assumed.s3_endpoint_key();
    let cached = match assumed.is_aws() {
        true => cached_region(&state.pool, endpoint, bucket).await?,
        false => None,
    };
    let s3 = assumed.s3(cached.as_deref());
    match call(s3.clone()).await {
        Ok(out) => Ok((out, s3)),
        Err(err) => match region_redirect(&err) {
            Some(region) if assumed.is_aws() && cached.as_deref() != Some(region.as_str()) => {
                remember_region(&state.pool, endpoint, bucket, &region).await?;
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
    if let Some(region) = cached_region(&state.pool, endpoint, bucket).await? {
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
            remember_region(&state.pool, endpoint, bucket, &region).await?;
            Ok(assumed.s3(Some(&region)))
        }
        None => Ok(s3),
    }
}

async fn added_buckets(pool: &PgPool, connection: i64) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar!(
        "select name from connection_buckets where connection_id = $1 order by name",
        connection
    )
    .fetch_all(pool)
    .await?)
}

/// One page of ListBuckets, and the buckets added by name. A role without
/// `s3:ListAllMyBuckets` is normal: the page says so and offers adding buckets by name.
pub async fn buckets(
    state: &AppState,
    user_id: i64,
    connection_id: i64,
    token: Option<String>,
) -> Result<BucketPage, AppError> {
    let (connection, assumed) =
        assume_for(state, user_id, connection_id, &Scope::ListBuckets).await?;
    let listed = assumed
        .s3(None)
        .list_buckets()
        .max_buckets(PAGE_SIZE)
        .set_continuation_token(token)
        .send()
        .await;
    let (mut buckets, next, list_denied) = match listed {
        Ok(out) => {
            let buckets = out
                .buckets()
                .iter()
                .map(|b| Bucket {
                    name: b.name().unwrap_or_default().to_owned(),
                    region: b.bucket_region().map(str::to_owned),
                    created: b.creation_date().and_then(rfc3339),
                })
                .collect();
            (buckets, out.continuation_token().map(str::to_owned), false)
        }
        Err(err) => match s3_failure(err, "s3:ListAllMyBuckets", "*") {
            AppError::Denied { .. } => (Vec::new(), None, true),
            other => return Err(other),
        },
    };
    // Remember what ListBuckets says of regions, in one statement: the bucket pages (and their
    // CSP, which must name the bucket's regional endpoint) need them.
    let (names, regions): (Vec<String>, Vec<String>) = buckets
        .iter()
        .filter_map(|b| Some((b.name.clone(), b.region.clone()?)))
        .unzip();
    if assumed.is_aws() && !names.is_empty() {
        sqlx::query!(
            "insert into bucket_regions (endpoint, bucket, region)
             select $1, * from unnest($2::text[], $3::text[])
             on conflict (endpoint, bucket) do update set region = excluded.region, seen_at = now()",
            assumed.s3_endpoint_key(),
            &names,
            &regions
        )
        .execute(&state.pool)
        .await?;
    }
    let mut added: Vec<Bucket> = added_buckets(&state.pool, connection_id)
        .await?
        .into_iter()
        .map(|name| Bucket {
            name,
            region: None,
            created: None,
        })
        .collect();
    // Fill in the regions ListBuckets did not give from what earlier requests learned.
    let unknown: Vec<String> = buckets
        .iter()
        .chain(&added)
        .filter(|b| b.region.is_none())
        .map(|b| b.name.clone())
        .collect();
    if !unknown.is_empty() {
        let known = sqlx::query!(
            "select bucket, region from bucket_regions where endpoint = $1 and bucket = any($2)",
            assumed.s3_endpoint_key(),
            &unknown
        )
        .fetch_all(&state.pool)
        .await?;
        for b in buckets.iter_mut().chain(added.iter_mut()) {
            if let Some(row) = known.iter().find(|r| r.bucket == b.name) {
                b.region.get_or_insert_with(|| row.region.clone());
            }
        }
    }
    Ok(BucketPage {
        connection: connection.name,
        buckets,
        next,
        list_denied,
        added,
    })
}

/// Checks with HeadBucket that the role reaches the bucket (and learns its region), then
/// stores the plain name on the connection. Returns the name as stored.
pub async fn add_bucket(
    state: &AppState,
    user_id: i64,
    connection_id: i64,
    name: &str,
) -> Result<String, AppError> {
    let name = name.trim();
    if !valid_bucket_name(name) {
        return Err(AppError::BucketNameInvalid);
    }
    let scope = Scope::ListBucket {
        bucket: name.to_owned(),
    };
    let (connection, assumed) = assume_for(state, user_id, connection_id, &scope).await?;
    let arn = bucket_arn(&connection, name);
    let (head, _) = in_bucket_region(
        state,
        &assumed,
        name,
        ("s3:ListBucket", &arn),
        |s3| async move { s3.head_bucket().bucket(name).send().await },
    )
    .await?;
    if let (Some(region), true) = (head.bucket_region(), assumed.is_aws()) {
        remember_region(&state.pool, assumed.s3_endpoint_key(), name, region).await?;
    }
    sqlx::query!(
        "insert into connection_buckets (connection_id, name) values ($1, $2)
         on conflict do nothing",
        connection_id,
        name
    )
    .execute(&state.pool)
    .await?;
    audit_bucket(&state.pool, user_id, connection_id, "bucket.add", name).await?;
    Ok(name.to_owned())
}

/// A change to the buckets stored on a connection, in the audit log.
async fn audit_bucket(
    pool: &PgPool,
    user_id: i64,
    connection_id: i64,
    action: &str,
    bucket: &str,
) -> Result<(), AppError> {
    let event = Event {
        actor_id: Some(user_id),
        connection_id: Some(connection_id),
        action,
        bucket: Some(bucket),
        outcome: "ok",
        ..Event::default()
    };
    record(pool, event).await
}

pub async fn remove_bucket(
    pool: &PgPool,
    user_id: i64,
    connection_id: i64,
    name: &str,
) -> Result<(), AppError> {
    let removed = sqlx::query!(
        "delete from connection_buckets b using connections c
         where b.connection_id = c.id and c.id = $1 and c.owner_id = $2 and b.name = $3",
        connection_id,
        user_id,
        name
    )
    .execute(pool)
    .await?;
    if removed.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    audit_bucket(pool, user_id, connection_id, "bucket.remove", name).await
}

/// One page of a folder: a single ListObjectsV2 with delimiter `/`, so the cost of a page does
/// not depend on how many keys the bucket holds.
pub async fn objects(
    state: &AppState,
    user_id: i64,
    connection_id: i64,
    bucket: &str,
    prefix: &str,
    token: Option<String>,
) -> Result<Listing, AppError> {
    if !plausible_bucket_name(bucket) {
        return Err(AppError::BucketNameInvalid);
    }
    let scope = Scope::ListBucket {
        bucket: bucket.to_owned(),
    };
    let (connection, assumed) = assume_for(state, user_id, connection_id, &scope).await?;
    let arn = bucket_arn(&connection, bucket);
    let token = token.filter(|t| !t.is_empty());
    let (out, _) = in_bucket_region(state, &assumed, bucket, ("s3:ListBucket", &arn), |s3| {
        let token = token.clone();
        async move {
            s3.list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .delimiter("/")
                .max_keys(PAGE_SIZE)
                .set_continuation_token(token)
                .send()
                .await
        }
    })
    .await?;
    Ok(Listing {
        connection: connection.name,
        folders: out
            .common_prefixes()
            .iter()
            .filter_map(|p| p.prefix().map(str::to_owned))
            .collect(),
        objects: out
            .contents()
            .iter()
            .map(|o| ObjectEntry {
                key: o.key().unwrap_or_default().to_owned(),
                size: o.size().unwrap_or_default(),
                last_modified: o.last_modified().and_then(rfc3339),
                storage_class: o.storage_class().map(|c| c.as_str().to_owned()),
            })
            // A zero-byte key ending in `/` is a folder marker (the folder itself), not a file.
            .filter(|o| !(o.size == 0 && o.key.ends_with('/')))
            .collect(),
        next: out.next_continuation_token().map(str::to_owned),
    })
}

/// HeadObject, and the object's tags where the role may read them.
pub async fn details(
    state: &AppState,
    user_id: i64,
    connection_id: i64,
    bucket: &str,
    key: &str,
) -> Result<ObjectDetails, AppError> {
    if !plausible_bucket_name(bucket) {
        return Err(AppError::BucketNameInvalid);
    }
    if key.is_empty() {
        return Err(AppError::NotFound);
    }
    let scope = Scope::Object {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        actions: vec!["s3:GetObject", "s3:GetObjectTagging"],
        purpose: "details",
    };
    let (connection, assumed) = assume_for(state, user_id, connection_id, &scope).await?;
    let arn = format!("{}/{key}", bucket_arn(&connection, bucket));
    let (head, s3) = in_bucket_region(
        state,
        &assumed,
        bucket,
        ("s3:GetObject", &arn),
        |s3| async move { s3.head_object().bucket(bucket).key(key).send().await },
    )
    .await?;
    // The HEAD found the bucket's region: the same client asks for the tags.
    let tags = s3
        .get_object_tagging()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|err| s3_failure(err, "s3:GetObjectTagging", &arn));
    let tags = match tags {
        Ok(out) => Some(
            out.tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
        ),
        // Tags are optional detail: a role without s3:GetObjectTagging still sees the rest.
        Err(AppError::Denied { .. }) => None,
        Err(other) => return Err(other),
    };
    let mut metadata: Vec<(String, String)> = head
        .metadata()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    metadata.sort();
    Ok(ObjectDetails {
        connection: connection.name,
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        size: head.content_length().unwrap_or_default(),
        content_type: head.content_type().map(str::to_owned),
        etag: head.e_tag().map(str::to_owned),
        last_modified: head.last_modified().and_then(rfc3339),
        storage_class: head
            .storage_class()
            .map_or("STANDARD", |c| c.as_str())
            .to_owned(),
        encryption: head.server_side_encryption().map(|e| e.as_str().to_owned()),
        kms_key_id: head.ssekms_key_id().map(str::to_owned),
        version_id: head.version_id().map(str::to_owned),
        metadata,
        tags,
        s3_uri: format!("s3://{bucket}/{key}"),
        arn,
    })
}
