//! Creating a folder, counting one, and deleting objects, selections and whole folders.

use serde_json::json;

use super::{assume_folders, audit, bucket_client, delete_batch, list_page, Walk};
use crate::{
    audit::Activity,
    aws::{
        access::Target,
        region::{in_bucket_region, signing_client},
        s3_failure,
    },
    error::AppError,
    iam::Action,
    objects::{valid_folder_name, Count, Report},
    state::AppState,
};

/// A folder count stops here: it is a confirmation, not an inventory.
const COUNT_LIMIT: u64 = 100_000;

/// What a delete names: objects and folders, all inside the folder `within`.
pub struct Chosen<'a> {
    pub within: &'a str,
    pub keys: &'a [String],
    pub folders: &'a [String],
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
    if !folders.is_empty() && confirm.trim() != crate::objects::confirmation_text(within, folders) {
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
