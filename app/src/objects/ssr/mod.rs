//! Server side of object management: one assumption per request, narrowed to the folder (or key)
//! acted on; folders are walked one listing page at a time, so memory does not grow with them.
//! The walk, the batch delete and the audit of a bulk action are here; each job has its file.

mod copy;
mod edit;
mod folders;
mod versions;

use aws_sdk_s3::{
    types::{Delete, ObjectIdentifier},
    Client,
};

pub use copy::copy;
pub use edit::{check_metadata, check_tags, patch_metadata, set_metadata, set_tags};
pub use folders::{count, create_folder, delete, Chosen};
pub use versions::{restore_version, versions};

use super::Report;
use crate::{
    audit::{
        ssr::{record, Event},
        Activity, Outcome,
    },
    aws::{
        access::{assume_for, Role},
        bucket::plausible_bucket_name,
        region::in_bucket_region,
        s3_failure, Assumed, Scope,
    },
    error::AppError,
    iam::Action,
    state::AppState,
};

/// The role assumed for listing under `within` and acting under some prefixes of one bucket.
pub(super) async fn assume_folders(
    state: &AppState,
    user: i64,
    connection: i64,
    (bucket, within): (&str, &str),
    grants: Vec<(String, Vec<Action>)>,
    purpose: Activity,
) -> Result<(Role, Assumed), AppError> {
    if !plausible_bucket_name(bucket) {
        return Err(AppError::BucketNameInvalid);
    }
    let scope = Scope::Folders {
        bucket: bucket.to_owned(),
        within: within.to_owned(),
        grants,
        purpose,
        url_seconds: 0,
    };
    assume_for(state, user, connection, &scope).await
}

/// A client that reaches the bucket (its region found by a first listing call).
pub(super) async fn bucket_client(
    state: &AppState,
    assumed: &Assumed,
    bucket: &str,
    arn: &str,
    prefix: &str,
) -> Result<(Client, Page), AppError> {
    let (page, s3) = in_bucket_region(state, assumed, bucket, (Action::ListBucket, arn), |s3| {
        list_page(s3, bucket.to_owned(), prefix.to_owned(), None)
    })
    .await?;
    Ok((s3, page))
}

/// One page (up to 1000) of every key under `prefix`, with sizes, and the next token.
pub(super) type Page = (Vec<(String, i64)>, Option<String>);

pub(super) async fn list_page(
    s3: Client,
    bucket: String,
    prefix: String,
    token: Option<String>,
) -> Result<
    Page,
    aws_sdk_s3::error::SdkError<
        aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error,
        aws_sdk_s3::config::http::HttpResponse,
    >,
> {
    let out = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .set_continuation_token(token)
        .send()
        .await?;
    let keys = out
        .contents()
        .iter()
        .filter_map(|o| Some((o.key()?.to_owned(), o.size().unwrap_or_default())))
        .collect();
    Ok((keys, out.next_continuation_token().map(str::to_owned)))
}

/// Every key under a prefix, one listing page at a time.
pub(super) struct Walk<'a> {
    s3: &'a Client,
    bucket: &'a str,
    prefix: &'a str,
    arn: &'a str,
    first: Option<Page>,
    /// The next page's token; `None` once the last page was handed out.
    next: Option<String>,
}

impl<'a> Walk<'a> {
    pub(super) fn new(
        s3: &'a Client,
        bucket: &'a str,
        prefix: &'a str,
        arn: &'a str,
        first: Page,
    ) -> Self {
        Walk {
            s3,
            bucket,
            prefix,
            arn,
            first: Some(first),
            next: None,
        }
    }

    pub(super) async fn page(&mut self) -> Result<Option<Vec<(String, i64)>>, AppError> {
        let (keys, next) = match (self.first.take(), self.next.take()) {
            (Some(first), _) => first,
            (None, Some(token)) => list_page(
                self.s3.clone(),
                self.bucket.into(),
                self.prefix.into(),
                Some(token),
            )
            .await
            .map_err(|err| s3_failure(err, Action::ListBucket, self.arn))?,
            (None, None) => return Ok(None),
        };
        self.next = next;
        Ok(Some(keys))
    }
}

/// One DeleteObjects call (at most 1000 keys); keys S3 could not delete go in the report.
pub(super) async fn delete_batch(
    s3: &Client,
    bucket: &str,
    arn: &str,
    keys: &[String],
    report: &mut Report,
) -> Result<(), AppError> {
    if keys.is_empty() {
        return Ok(());
    }
    let objects = keys
        .iter()
        .map(|k| ObjectIdentifier::builder().key(k).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(AppError::internal)?;
    let delete = Delete::builder()
        .set_objects(Some(objects))
        .quiet(true)
        .build()
        .map_err(AppError::internal)?;
    let out = s3
        .delete_objects()
        .bucket(bucket)
        .delete(delete)
        .send()
        .await
        .map_err(|err| s3_failure(err, Action::DeleteObject, &format!("{arn}/*")))?;
    let failed: Vec<(String, String)> = out
        .errors()
        .iter()
        .map(|e| {
            let why = match e.code() {
                Some("AccessDenied") => "the role may not delete it (s3:DeleteObject)".to_owned(),
                Some(code) => format!("S3 refused it ({code})"),
                None => "S3 refused it".to_owned(),
            };
            (e.key().unwrap_or_default().to_owned(), why)
        })
        .collect();
    report.done += (keys.len() - failed.len()) as u64;
    report.failed.extend(failed);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn audit(
    state: &AppState,
    user: i64,
    role: &Role,
    action: Activity,
    bucket: &str,
    key: &str,
    report: &Report,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    let outcome = match (report.done, report.failed.len()) {
        (_, 0) => Outcome::Ok,
        (0, _) => Outcome::Failed,
        _ => Outcome::Partial,
    };
    let event = Event {
        actor_id: Some(user),
        connection_id: Some(role.connection),
        bucket: Some(bucket),
        key: Some(key),
        detail: Some(role.stamp(detail)),
        ..Event::new(action, outcome)
    };
    record(&state.pool, event).await
}
