//! Server side of object management: one assumption per request, narrowed to the folder (or key)
//! acted on; folders are walked one listing page at a time, so memory does not grow with them.

use aws_sdk_s3::{
    types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier},
    Client,
};
use futures::{stream, StreamExt};
use serde_json::json;

use super::{destination, valid_folder_name, Count, Report};
use crate::{
    audit::{
        ssr::{record, Event},
        Activity, Outcome,
    },
    aws::{
        access::{assume_for, Role, Target},
        bucket::plausible_bucket_name,
        region::{in_bucket_region, signing_client},
        s3_failure, Assumed, Scope,
    },
    error::AppError,
    iam::Action,
    location::folder_of,
    state::AppState,
    url::encode_component,
};

/// CopyObject copies at most 5 GiB; larger objects are copied in parts of this size.
const COPY_LIMIT: i64 = 5 << 30;
const COPY_PART: i64 = 512 << 20;
/// Copies (or multipart parts) in flight at once within one request.
const CONCURRENT_COPIES: usize = 8;
/// A folder count stops here: it is a confirmation, not an inventory.
const COUNT_LIMIT: u64 = 100_000;

/// What a delete names: objects and folders, all inside the folder `within`.
pub struct Chosen<'a> {
    pub within: &'a str,
    pub keys: &'a [String],
    pub folders: &'a [String],
}

/// The role assumed for listing under `within` and acting under some prefixes of one bucket.
async fn assume_folders(
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
    };
    assume_for(state, user, connection, &scope).await
}

/// A client that reaches the bucket (its region found by a first listing call).
async fn bucket_client(
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
type Page = (Vec<(String, i64)>, Option<String>);

async fn list_page(
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
struct Walk<'a> {
    s3: &'a Client,
    bucket: &'a str,
    prefix: &'a str,
    arn: &'a str,
    first: Option<Page>,
    /// The next page's token; `None` once the last page was handed out.
    next: Option<String>,
}

impl<'a> Walk<'a> {
    fn new(s3: &'a Client, bucket: &'a str, prefix: &'a str, arn: &'a str, first: Page) -> Self {
        Walk {
            s3,
            bucket,
            prefix,
            arn,
            first: Some(first),
            next: None,
        }
    }

    async fn page(&mut self) -> Result<Option<Vec<(String, i64)>>, AppError> {
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

pub async fn create_folder(
    state: &AppState,
    user: i64,
    connection: i64,
    bucket: &str,
    prefix: &str,
    name: &str,
) -> Result<String, AppError> {
    let name = name.trim();
    if !valid_folder_name(name) {
        return Err(AppError::FolderNameInvalid);
    }
    let key = format!("{prefix}{name}/");
    let target = Target::new(state, user, connection, bucket, &key)?;
    let (role, assumed) = target
        .assume(vec![Action::PutObject], Activity::FolderCreate)
        .await?;
    let arn = role.object_arn(bucket, &key);
    let result = in_bucket_region(state, &assumed, bucket, (Action::PutObject, &arn), |s3| {
        let key = key.clone();
        async move {
            s3.put_object()
                .bucket(bucket)
                .key(key)
                .content_length(0)
                .send()
                .await
        }
    })
    .await
    .map(|_| ());
    target
        .audit(&role, Activity::FolderCreate, &result, json!({}))
        .await?;
    result.map(|_| key)
}

pub async fn count(
    state: &AppState,
    user: i64,
    connection: i64,
    bucket: &str,
    folder: &str,
) -> Result<Count, AppError> {
    let (role, assumed) = assume_folders(
        state,
        user,
        connection,
        (bucket, folder),
        Vec::new(),
        Activity::FolderCount,
    )
    .await?;
    let arn = role.bucket_arn(bucket);
    let (s3, first) = bucket_client(state, &assumed, bucket, &arn, folder).await?;
    let mut keys = 0;
    let mut walk = Walk::new(&s3, bucket, folder, &arn, first);
    while let Some(page) = walk.page().await? {
        keys += page.len() as u64;
        if keys >= COUNT_LIMIT {
            break;
        }
    }
    Ok(Count {
        keys: keys.min(COUNT_LIMIT),
        more: keys >= COUNT_LIMIT,
    })
}

pub async fn delete(
    state: &AppState,
    user: i64,
    connection: i64,
    bucket: &str,
    chosen: Chosen<'_>,
    confirm: &str,
) -> Result<Report, AppError> {
    let Chosen {
        within,
        keys,
        folders,
    } = chosen;
    let inside = |k: &String| k.starts_with(within) && k.len() > within.len() && k.len() <= 1024;
    // The folder `within` itself stands for everything in it ("select everything"), alone.
    let itself = folders.len() == 1 && folders[0] == within && keys.is_empty();
    if !keys.iter().all(inside)
        || !(itself || folders.iter().all(|f| inside(f) && f.ends_with('/')))
    {
        return Err(AppError::KeyInvalid);
    }
    if keys.is_empty() && folders.is_empty() {
        return Ok(Report::default());
    }
    if !folders.is_empty() && confirm.trim() != super::confirmation_text(within, folders) {
        return Err(AppError::ConfirmationMismatch);
    }
    let grants = vec![(within.to_owned(), vec![Action::DeleteObject])];
    let (role, assumed) = assume_folders(
        state,
        user,
        connection,
        (bucket, within),
        grants,
        Activity::Delete,
    )
    .await?;
    let arn = role.bucket_arn(bucket);
    let mut report = Report::default();
    let s3 = match folders.first() {
        Some(folder) => {
            let (s3, first) = bucket_client(state, &assumed, bucket, &arn, folder).await?;
            let mut first = Some(first);
            for folder in folders {
                let page = match first.take() {
                    Some(page) => page,
                    None => list_page(s3.clone(), bucket.into(), folder.clone(), None)
                        .await
                        .map_err(|err| s3_failure(err, Action::ListBucket, &arn))?,
                };
                let mut walk = Walk::new(&s3, bucket, folder, &arn, page);
                while let Some(page) = walk.page().await? {
                    let keys: Vec<String> = page.into_iter().map(|(k, _)| k).collect();
                    delete_batch(&s3, bucket, &arn, &keys, &mut report).await?;
                }
            }
            s3
        }
        None => signing_client(state, &assumed, bucket).await?,
    };
    for batch in keys.chunks(1000) {
        delete_batch(&s3, bucket, &arn, batch, &mut report).await?;
    }
    let detail = json!({
        "within": within,
        "keys": keys.len(),
        "folders": folders,
        "deleted": report.done,
        "failed": report.failed.len(),
    });
    audit(
        state,
        user,
        &role,
        Activity::Delete,
        bucket,
        within,
        &report,
        detail,
    )
    .await?;
    Ok(report)
}

/// One DeleteObjects call (at most 1000 keys); keys S3 could not delete go in the report.
async fn delete_batch(
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
async fn audit(
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

/// Up to 1000 versions of one key, newest first.
pub async fn versions(target: &Target<'_>) -> Result<Vec<super::Version>, AppError> {
    let (role, assumed) = target
        .assume_versions(vec![Action::GetObjectVersion], Activity::Versions)
        .await?;
    let arn = role.bucket_arn(target.bucket);
    let (bucket, key) = (target.bucket, target.key);
    let (out, _) = in_bucket_region(
        target.state,
        &assumed,
        bucket,
        (Action::ListBucketVersions, &arn),
        |s3| async move {
            s3.list_object_versions()
                .bucket(bucket)
                .prefix(key)
                .send()
                .await
        },
    )
    .await?;
    let time = |t: Option<&aws_sdk_s3::primitives::DateTime>| {
        t.and_then(|t| t.fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime).ok())
    };
    let mut all: Vec<super::Version> = out
        .versions()
        .iter()
        .filter(|v| v.key() == Some(key))
        .map(|v| super::Version {
            id: v.version_id().unwrap_or("null").to_owned(),
            size: v.size().unwrap_or_default(),
            last_modified: time(v.last_modified()),
            latest: v.is_latest().unwrap_or(false),
            deleted: false,
        })
        .chain(
            out.delete_markers()
                .iter()
                .filter(|m| m.key() == Some(key))
                .map(|m| super::Version {
                    id: m.version_id().unwrap_or("null").to_owned(),
                    size: 0,
                    last_modified: time(m.last_modified()),
                    latest: m.is_latest().unwrap_or(false),
                    deleted: true,
                }),
        )
        .collect();
    all.sort_by(|a, b| b.last_modified.cmp(&a.last_modified));
    Ok(all)
}

/// CopyObject of `version` over the key itself.
pub async fn restore_version(target: &Target<'_>, version: &str) -> Result<(), AppError> {
    if version.is_empty() || version.len() > 1024 {
        return Err(AppError::NotFound);
    }
    let (role, assumed) = target
        .assume_versions(
            vec![Action::GetObjectVersion, Action::PutObject],
            Activity::VersionRestore,
        )
        .await?;
    let arn = role.object_arn(target.bucket, target.key);
    let (bucket, key) = (target.bucket, target.key);
    let source = format!(
        "{bucket}/{}?versionId={}",
        encode_component(key),
        encode_component(version)
    );
    let result = in_bucket_region(
        target.state,
        &assumed,
        bucket,
        (Action::GetObjectVersion, &arn),
        |s3| {
            let source = source.clone();
            async move {
                s3.copy_object()
                    .bucket(bucket)
                    .key(key)
                    .copy_source(source)
                    .send()
                    .await
            }
        },
    )
    .await
    .map(|_| ());
    target
        .audit(
            &role,
            Activity::VersionRestore,
            &result,
            json!({ "version": version }),
        )
        .await?;
    result
}

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
