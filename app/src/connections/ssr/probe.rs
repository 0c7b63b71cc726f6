//! What the connection check learns of the role's write access, so that pages disable the
//! changes AWS would refuse instead of offering them and failing afterwards.
//!
//! S3 authorizes a request before it looks at its preconditions. A PutObject of
//! [`PROBE_KEY`] with `If-Match` naming an ETag no object has is therefore refused with 403 when
//! the role may not write there, and otherwise fails its precondition (404 for a missing key,
//! 412 for another object): nothing is ever written. The probe runs at the root of each bucket
//! the role can list (or was added by name), or under each of the connection's locations. A
//! role that may write only under some prefix of a bucket is judged at the bucket's root: a
//! location on that prefix has it judged there.

use futures::{stream, StreamExt};

use crate::{
    audit::Activity,
    aws::{
        access::{assume_audited, USER_PLACEHOLDER},
        bucket::added_buckets,
        region::in_bucket_region,
        Assumed, RoleTarget, Scope, PROBE_KEY,
    },
    connections::Connection,
    error::{AppError, AwsProblem},
    iam::Action,
    state::AppState,
};

/// Buckets probed at most, by name: a check stays a few seconds long on any account.
pub(crate) const MOST_BUCKETS: i32 = 100;
/// Probes in flight at once.
const AT_ONCE: usize = 8;
/// An ETag no object has (S3's are hex digests): the precondition always fails.
const NO_SUCH_ETAG: &str = "\"crossview-probe-matches-nothing\"";

/// Probes where the role may write and replaces what the last check learned. Never fails the
/// check: what could not be learned is logged and left unknown (pages then go by the access the
/// owner chose). S3-compatible stores are not probed: not all of them honour `If-Match` on a
/// PutObject, and one that ignored it would write the probe's empty object.
pub async fn learn(state: &AppState, actor: i64, connection: &Connection, target: RoleTarget<'_>) {
    if connection.s3_endpoint.is_some() {
        return;
    }
    let learned = match probe(state, actor, connection, target).await {
        Ok(learned) => learned,
        Err(err) => {
            tracing::warn!(error = %err, connection = connection.id, "write access not learned");
            Vec::new()
        }
    };
    if let Err(err) = store(state, connection.id, &learned).await {
        tracing::warn!(error = %err, connection = connection.id, "write access not stored");
    }
}

/// `(bucket, prefix, writable)` for every place probed whose answer was clear.
async fn probe(
    state: &AppState,
    actor: i64,
    connection: &Connection,
    target: RoleTarget<'_>,
) -> Result<Vec<(String, String, bool)>, AppError> {
    let locations: Vec<(String, String)> = sqlx::query_as(
        "select bucket, prefix from locations where connection_id = $1 order by bucket, prefix",
    )
    .bind(connection.id)
    .fetch_all(&state.pool)
    .await?;
    let restricted = !locations.is_empty();
    // A location per user (`home/{user}/`) is a different place for each of them: not probed.
    let locations: Vec<_> = locations
        .into_iter()
        .filter(|(_, prefix)| !prefix.contains(USER_PLACEHOLDER))
        .collect();
    if restricted && locations.is_empty() {
        return Ok(Vec::new());
    }
    let scope = Scope::WriteProbe {
        locations: locations.clone(),
    };
    let assumed = assume_audited(
        state,
        actor,
        connection.id,
        target,
        &scope,
        Activity::WriteProbe,
        None,
    )
    .await?;
    let places = match restricted {
        false => buckets(state, &assumed, connection.id).await?,
        true => locations,
    };
    let answers = stream::iter(places)
        .map(|(bucket, prefix)| {
            let assumed = &assumed;
            async move {
                let writable = writable(state, assumed, &bucket, &prefix).await;
                writable.map(|w| (bucket, prefix, w))
            }
        })
        .buffer_unordered(AT_ONCE)
        .filter_map(|answer| async { answer })
        .collect()
        .await;
    Ok(answers)
}

/// The buckets the role lists (the first [`MOST_BUCKETS`]) and those added by name, at their root.
pub(crate) async fn buckets(
    state: &AppState,
    assumed: &Assumed,
    connection: i64,
) -> Result<Vec<(String, String)>, AppError> {
    let mut names = added_buckets(&state.pool, connection).await?;
    // A role without s3:ListAllMyBuckets is probed on the buckets added by name alone.
    if let Ok(listed) = assumed
        .s3(None)
        .list_buckets()
        .max_buckets(MOST_BUCKETS)
        .send()
        .await
    {
        names.extend(
            listed
                .buckets()
                .iter()
                .filter_map(|b| b.name())
                .map(str::to_owned),
        );
    }
    names.sort();
    names.dedup();
    names.truncate(MOST_BUCKETS as usize);
    Ok(names
        .into_iter()
        .map(|name| (name, String::new()))
        .collect())
}

/// Whether S3 would take a write of `prefix` + [`PROBE_KEY`] in `bucket`; `None` when its answer
/// says neither (throttled, unreachable, the bucket gone).
async fn writable(state: &AppState, assumed: &Assumed, bucket: &str, prefix: &str) -> Option<bool> {
    let key = format!("{prefix}{PROBE_KEY}");
    let resource = format!("{bucket}/{key}");
    let answer = in_bucket_region(
        state,
        assumed,
        bucket,
        (Action::PutObject, &resource),
        |s3| {
            let put = s3
                .put_object()
                .bucket(bucket)
                .key(&key)
                .if_match(NO_SUCH_ETAG)
                .send();
            async move {
                match put.await {
                    Ok(_) => Ok(true),
                    // Authorized, then refused: another object has the key.
                    Err(err)
                        if err
                            .raw_response()
                            .is_some_and(|r| r.status().as_u16() == 412) =>
                    {
                        Ok(false)
                    }
                    Err(err) => Err(err),
                }
            }
        },
    )
    .await;
    match answer {
        Ok((written, _)) => {
            if written {
                // A store that ignored the precondition: the role may write, evidently.
                tracing::warn!(bucket, key, "the write probe's precondition was ignored");
            }
            Some(true)
        }
        // Authorized, then refused: no object has the key.
        Err(AppError::Aws(AwsProblem::ObjectNotFound)) => Some(true),
        Err(AppError::Denied { .. }) => Some(false),
        Err(_) => None,
    }
}

/// Replaces the connection's learned write access with `learned`.
async fn store(
    state: &AppState,
    connection: i64,
    learned: &[(String, String, bool)],
) -> Result<(), AppError> {
    let mut buckets = Vec::with_capacity(learned.len());
    let mut prefixes = Vec::with_capacity(learned.len());
    let mut writable = Vec::with_capacity(learned.len());
    for (bucket, prefix, w) in learned {
        buckets.push(bucket.as_str());
        prefixes.push(prefix.as_str());
        writable.push(*w);
    }
    let mut tx = state.pool.begin().await?;
    sqlx::query("delete from write_checks where connection_id = $1")
        .bind(connection)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into write_checks (connection_id, bucket, prefix, writable)
         select $1, * from unnest($2::text[], $3::text[], $4::bool[])",
    )
    .bind(connection)
    .bind(&buckets)
    .bind(&prefixes)
    .bind(&writable)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
