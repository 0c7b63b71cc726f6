//! Server side of browsing. Each function is one request: one owner-checked, audited
//! AssumeRole narrowed to what it does, a few S3 calls on those credentials, then they are
//! dropped. Only non-secrets are remembered: bucket names added by hand and bucket regions.

use sqlx::PgPool;

use super::{Bucket, BucketPage, Listing, ObjectDetails, ObjectEntry};
use crate::{
    audit::{
        ssr::{record, Event},
        Activity, Outcome,
    },
    aws::{
        access::{assume_for, Role},
        bucket::{plausible_bucket_name, valid_bucket_name},
        region::{folder_page, in_bucket_region, remember_region},
        s3_failure, Scope,
    },
    error::AppError,
    format::rfc3339_from_aws,
    iam::Action,
    objects::Metadata,
    state::AppState,
};

/// Buckets a page of ListBuckets: its maximum, since an account rarely has more.
const BUCKETS_PAGE: i32 = 1000;

/// One page of ListBuckets, and the buckets added by name. A role without
/// `s3:ListAllMyBuckets` is normal: the page says so and offers adding buckets by name.
pub async fn buckets(
    state: &AppState,
    user_id: i64,
    connection_id: i64,
    token: Option<String>,
) -> Result<BucketPage, AppError> {
    let role = Role::load(state, user_id, connection_id).await?;
    // A connection restricted to locations shows those, and asks AWS nothing.
    if let Some(reach) = role.reach {
        return Ok(BucketPage {
            connection: role.name,
            buckets: Vec::new(),
            next: None,
            list_denied: false,
            added: Vec::new(),
            locations: Some(reach),
        });
    }
    let (role, assumed) = role.assume(state, user_id, &Scope::ListBuckets).await?;
    let listed = assumed
        .s3(None)
        .list_buckets()
        .max_buckets(BUCKETS_PAGE)
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
                    created: b.creation_date().and_then(rfc3339_from_aws),
                })
                .collect();
            (buckets, out.continuation_token().map(str::to_owned), false)
        }
        Err(err) => match s3_failure(err, Action::ListAllMyBuckets, "*") {
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
        for (name, region) in names.iter().zip(&regions) {
            state
                .aws
                .learn_region(assumed.s3_endpoint_key(), name, Some(region));
        }
    }
    let mut added: Vec<Bucket> = crate::aws::bucket::added_buckets(&state.pool, connection_id)
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
        connection: role.name,
        buckets,
        next,
        list_denied,
        added,
        locations: None,
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
        prefix: String::new(),
    };
    let (role, assumed) = assume_for(state, user_id, connection_id, &scope).await?;
    let arn = role.bucket_arn(name);
    let (head, _) = in_bucket_region(
        state,
        &assumed,
        name,
        (Action::ListBucket, &arn),
        |s3| async move { s3.head_bucket().bucket(name).send().await },
    )
    .await?;
    if let (Some(region), true) = (head.bucket_region(), assumed.is_aws()) {
        remember_region(state, assumed.s3_endpoint_key(), name, region).await?;
    }
    sqlx::query!(
        "insert into connection_buckets (connection_id, name) values ($1, $2)
         on conflict do nothing",
        connection_id,
        name
    )
    .execute(&state.pool)
    .await?;
    audit_bucket(
        &state.pool,
        user_id,
        connection_id,
        Activity::BucketAdd,
        name,
    )
    .await?;
    Ok(name.to_owned())
}

/// A change to the buckets stored on a connection, in the audit log.
async fn audit_bucket(
    pool: &PgPool,
    user_id: i64,
    connection_id: i64,
    action: Activity,
    bucket: &str,
) -> Result<(), AppError> {
    let event = Event {
        actor_id: Some(user_id),
        connection_id: Some(connection_id),
        bucket: Some(bucket),
        ..Event::new(action, Outcome::Ok)
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
    audit_bucket(pool, user_id, connection_id, Activity::BucketRemove, name).await
}

/// One page of a folder (see [`folder_page`]).
pub async fn objects(
    state: &AppState,
    user_id: i64,
    connection_id: i64,
    bucket: &str,
    (prefix, per): (&str, i32),
    token: Option<String>,
) -> Result<Listing, AppError> {
    if !plausible_bucket_name(bucket) {
        return Err(AppError::BucketNameInvalid);
    }
    let scope = Scope::ListBucket {
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
    };
    let (role, assumed) = assume_for(state, user_id, connection_id, &scope).await?;
    let arn = role.bucket_arn(bucket);
    let out = folder_page(state, &assumed, (bucket, &arn), prefix, per, token).await?;
    let read_only = role.read_only_at(bucket, prefix);
    Ok(Listing {
        connection: role.name,
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
                last_modified: o.last_modified().and_then(rfc3339_from_aws),
                storage_class: o.storage_class().map(|c| c.as_str().to_owned()),
            })
            // A zero-byte key ending in `/` is a folder marker (the folder itself), not a file.
            .filter(|o| !(o.size == 0 && o.key.ends_with('/')))
            .collect(),
        next: out.next_continuation_token().map(str::to_owned),
        read_only,
        within: role.within,
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
        actions: vec![Action::GetObject, Action::GetObjectTagging],
        purpose: Activity::Details,
    };
    let (role, assumed) = assume_for(state, user_id, connection_id, &scope).await?;
    let arn = role.object_arn(bucket, key);
    let (head, s3) = in_bucket_region(
        state,
        &assumed,
        bucket,
        (Action::GetObject, &arn),
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
        .map_err(|err| s3_failure(err, Action::GetObjectTagging, &arn));
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
    let read_only = role.read_only_at(bucket, key);
    Ok(ObjectDetails {
        connection: role.name,
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        size: head.content_length().unwrap_or_default(),
        meta: Metadata::of_head(&head),
        etag: head.e_tag().map(str::to_owned),
        last_modified: head.last_modified().and_then(rfc3339_from_aws),
        encryption: head.server_side_encryption().map(|e| e.as_str().to_owned()),
        kms_key_id: head.ssekms_key_id().map(str::to_owned),
        version_id: head.version_id().map(str::to_owned),
        tags,
        s3_uri: format!("s3://{bucket}/{key}"),
        arn,
        read_only,
        within: role.within,
    })
}
