//! One request lists the next page of what was chosen and signs a GET for each file in it, on one
//! fresh assumption that may list under the folder and read only the chosen keys and folders.
//! Nothing of the objects passes through here.

use std::time::Duration;

use aws_sdk_s3::{
    operation::list_objects_v2::ListObjectsV2Output, presigning::PresigningConfig, types::Object,
    Client,
};

use super::{Skipped, ZipBatch, ZipFile, ITEMS_PER_REQUEST, PAGE_BYTES, PAGE_FILES};
use crate::{
    audit::Activity,
    aws::{
        access::Role, bucket::plausible_bucket_name, region::in_bucket_region, s3_failure, Scope,
        MAX_KEY_BYTES,
    },
    error::AppError,
    iam::Action,
    state::AppState,
};

/// Where a zip is made: the user's connection, the bucket, and the folder the names start in.
pub struct Here<'a> {
    pub state: &'a AppState,
    pub user: i64,
    pub connection: i64,
    pub bucket: &'a str,
    pub folder: &'a str,
    /// Reached through a share link (`user` is its owner): the link's own allowance of
    /// assumptions is spent, and URLs live minutes.
    pub shared: bool,
}

/// Storage classes whose objects S3 will not return until they are restored.
const ARCHIVED: [&str; 2] = ["GLACIER", "DEEP_ARCHIVE"];

/// The files of the next page of `items`, signed (see `zip::zip_page`).
pub async fn page(
    here: &Here<'_>,
    items: &[String],
    token: Option<String>,
) -> Result<ZipBatch, AppError> {
    check(here, items, token.as_deref())?;
    let grants = items
        .iter()
        .map(|item| (item.clone(), vec![Action::GetObject]))
        .collect();
    let role = Role::load(here.state, here.user, here.connection).await?;
    // The session lasts as long as the URLs signed with it.
    let seconds = role.url_seconds(here.state, here.user, here.shared);
    let scope = Scope::Folders {
        bucket: here.bucket.to_owned(),
        within: here.folder.to_owned(),
        grants,
        purpose: Activity::Zip,
        url_seconds: seconds,
    };
    let (role, assumed) = match here.shared {
        false => role.assume(here.state, here.user, &scope).await?,
        true => role.assume_shared(here.state, here.user, &scope).await?,
    };
    let arn = role.bucket_arn(here.bucket);
    let expires = PresigningConfig::expires_in(Duration::from_secs(seconds.into()))
        .map_err(AppError::internal)?;
    // The first listing finds the bucket's region; the same client lists the rest and signs.
    let first = items[0].clone();
    let start = token.clone();
    let (listed, s3) = in_bucket_region(
        here.state,
        &assumed,
        here.bucket,
        (Action::ListBucket, &arn),
        |s3| list(s3, here.bucket.to_owned(), first.clone(), start.clone()),
    )
    .await?;
    let mut walk = Walk {
        s3,
        here,
        arn,
        expires,
        page: ZipBatch::default(),
        bytes: 0,
    };
    let mut listed = Some(listed);
    for (done, item) in items.iter().enumerate() {
        let after = match done {
            0 => token.clone(),
            _ => None,
        };
        match walk.item(item, after, listed.take()).await? {
            Some(last) => {
                walk.page.done = done;
                walk.page.token = Some(last);
                return Ok(walk.page);
            }
            None => walk.page.done = done + 1,
        }
        if walk.full() {
            break;
        }
    }
    Ok(walk.page)
}

/// Every item names the folder or something below it, within S3's limits; `token` is a key
/// below the first item.
fn check(here: &Here<'_>, items: &[String], token: Option<&str>) -> Result<(), AppError> {
    if !plausible_bucket_name(here.bucket) {
        return Err(AppError::BucketNameInvalid);
    }
    if items.is_empty() || items.len() > ITEMS_PER_REQUEST {
        return Err(AppError::Request(format!(
            "send between 1 and {ITEMS_PER_REQUEST} entries a request"
        )));
    }
    let fits = |key: &str| key.len() <= MAX_KEY_BYTES;
    let below = |key: &str| key.starts_with(here.folder);
    let token_fits = token.is_none_or(|t| fits(t) && t.starts_with(items[0].as_str()));
    match items.iter().all(|i| fits(i) && below(i)) && token_fits && fits(here.folder) {
        true => Ok(()),
        false => Err(AppError::KeyInvalid),
    }
}

/// ListObjectsV2 under `prefix` after `after` (a key: a page can end mid-listing, on a byte
/// bound, so the walk continues after a key rather than on S3's token).
async fn list(
    s3: Client,
    bucket: String,
    prefix: String,
    after: Option<String>,
) -> Result<
    ListObjectsV2Output,
    aws_sdk_s3::error::SdkError<
        aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error,
        aws_sdk_s3::config::http::HttpResponse,
    >,
> {
    // A single key: the first key from it on is the key itself, or it is gone.
    let one = !prefix.is_empty() && !prefix.ends_with('/');
    let most = match one {
        true => 1,
        false => PAGE_FILES as i32,
    };
    s3.list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .set_start_after(after)
        .max_keys(most)
        .send()
        .await
}

/// One request's walk: what it has signed so far.
struct Walk<'a> {
    s3: Client,
    here: &'a Here<'a>,
    arn: String,
    expires: PresigningConfig,
    page: ZipBatch,
    bytes: i64,
}

impl Walk<'_> {
    fn full(&self) -> bool {
        self.page.files.len() >= PAGE_FILES || self.bytes >= PAGE_BYTES
    }

    /// Takes an item's objects until the page is full: `Some(last key taken)` when the item is
    /// not finished, `None` when it is. A listing S3 refuses leaves the item out, said why.
    async fn item(
        &mut self,
        item: &str,
        mut after: Option<String>,
        mut listed: Option<ListObjectsV2Output>,
    ) -> Result<Option<String>, AppError> {
        let single = !item.is_empty() && !item.ends_with('/');
        loop {
            let out = match listed.take() {
                Some(out) => out,
                None => {
                    let call = list(
                        self.s3.clone(),
                        self.here.bucket.to_owned(),
                        item.to_owned(),
                        after.clone(),
                    );
                    match call.await {
                        Ok(out) => out,
                        Err(err) => {
                            let why = s3_failure(err, Action::ListBucket, &self.arn).to_string();
                            self.skip(item, why);
                            return Ok(None);
                        }
                    }
                }
            };
            if single {
                match out.contents().first().filter(|o| o.key() == Some(item)) {
                    Some(object) => self.take(object).await?,
                    None => self.skip(item, "it no longer exists".into()),
                }
                return Ok(None);
            }
            for object in out.contents() {
                if self.full() {
                    return Ok(after);
                }
                self.take(object).await?;
                after = object.key().map(str::to_owned);
            }
            if out.is_truncated() != Some(true) || after.is_none() {
                return Ok(None);
            }
            if self.full() {
                return Ok(after);
            }
        }
    }

    /// Signs one object into the page (a folder marker becomes a folder entry; an archived
    /// object is left out, said why).
    async fn take(&mut self, object: &Object) -> Result<(), AppError> {
        let Some(key) = object.key() else {
            return Ok(());
        };
        let size = object.size().unwrap_or_default();
        let class = object
            .storage_class()
            .map(|c| c.as_str())
            .unwrap_or_default();
        if ARCHIVED.contains(&class) {
            let why = format!("it is archived in {class}: restore it before downloading");
            self.skip(key, why);
            return Ok(());
        }
        let marker = key.ends_with('/') && size == 0;
        let url = match marker {
            true => None,
            false => Some(self.sign(key).await?),
        };
        self.bytes += size;
        self.page.files.push(ZipFile {
            key: key.to_owned(),
            name: super::entry_name(self.here.folder, key),
            size,
            modified: object.last_modified().map(|t| t.secs()),
            url,
        });
        Ok(())
    }

    async fn sign(&self, key: &str) -> Result<String, AppError> {
        let presigned = self
            .s3
            .get_object()
            .bucket(self.here.bucket)
            .key(key)
            .presigned(self.expires.clone())
            .await
            .map_err(|err| s3_failure(err, Action::GetObject, &self.arn))?;
        Ok(presigned.uri().to_owned())
    }

    fn skip(&mut self, key: &str, why: String) {
        self.page.skipped.push(Skipped {
            key: key.to_owned(),
            why,
        });
    }
}
