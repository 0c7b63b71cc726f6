//! Server side of search: the pattern and filters read once (`matcher.rs`: a bad one is refused
//! before AWS is asked), one fresh assumption for the walk request, audited as `object.search`, then
//! ListObjectsV2 without a delimiter, a page of 1,000 keys at a time, each page's matches sent
//! as soon as it is searched. Memory holds one page, whatever the bucket's size; the walk ends
//! when the client goes away (the stream is dropped, and with it the credentials).

use std::time::Duration;

use aws_sdk_s3::{operation::list_objects_v2::ListObjectsV2Output, Client};
use axum::body::Bytes;
use futures::{stream, Stream};
use tokio::time::Instant;

use super::{matcher::Matcher, Hit, Line, Search, Stop, MAX_HITS};
use crate::{
    audit::Activity,
    aws::{
        access::assume_for, bucket::plausible_bucket_name, region::in_bucket_region, s3_failure,
        Scope, MAX_KEY_BYTES,
    },
    error::AppError,
    format::rfc3339_from_aws,
    iam::Action,
    state::AppState,
};

/// How far one walk request goes: keys scanned (`SEARCH_MAX_KEYS`) and time (a margin inside
/// the request's own deadline, so the answer always ends with where to continue).
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub max_keys: u64,
    pub time: Duration,
}

/// Keys a listing page holds: S3's maximum.
const PAGE: i32 = 1000;

/// Starts a walk request: the search read, the role assumed (audited once for the request),
/// the first page listed (so a refusal is an answer, not a broken stream). Returns the lines
/// to send, each as it is ready.
pub async fn walk(
    state: &AppState,
    user: i64,
    connection: i64,
    bucket: &str,
    search: &Search,
    bounds: Bounds,
) -> Result<impl Stream<Item = Bytes> + Send + 'static, AppError> {
    if !plausible_bucket_name(bucket) {
        return Err(AppError::BucketNameInvalid);
    }
    let (within, after) = (search.within.as_str(), search.after.as_str());
    let after_outside = !after.is_empty() && !after.starts_with(within);
    if within.len() > MAX_KEY_BYTES || after.len() > MAX_KEY_BYTES || after_outside {
        return Err(AppError::KeyInvalid);
    }
    if !search.asks() {
        return Err(AppError::Request(
            "say what to look for: part of a name, a pattern, or a filter".into(),
        ));
    }
    let matcher = Matcher::new(search)?;
    let scope = Scope::Folders {
        bucket: bucket.to_owned(),
        within: within.to_owned(),
        grants: Vec::new(),
        purpose: Activity::Search,
        url_seconds: 0,
    };
    let (role, assumed) = assume_for(state, user, connection, &scope).await?;
    let arn = role.bucket_arn(bucket);
    let after = (!after.is_empty()).then(|| after.to_owned());
    let (first, s3) = in_bucket_region(state, &assumed, bucket, (Action::ListBucket, &arn), |s3| {
        let after = after.clone();
        async move {
            s3.list_objects_v2()
                .bucket(bucket)
                .prefix(within)
                .max_keys(PAGE)
                .set_start_after(after)
                .send()
                .await
        }
    })
    .await?;
    let walk = Walk {
        s3,
        bucket: bucket.to_owned(),
        within: within.to_owned(),
        arn,
        matcher,
        max_keys: bounds.max_keys,
        deadline: Instant::now() + bounds.time,
        first: Some(first),
        token: None,
        scanned: 0,
        found: 0,
        position: after,
        ended: false,
    };
    Ok(stream::unfold(walk, |mut walk| async move {
        let lines = walk.step().await?;
        let mut bytes = Vec::new();
        for line in lines {
            serde_json::to_writer(&mut bytes, &line).ok()?;
            bytes.push(b'\n');
        }
        Some((Bytes::from(bytes), walk))
    }))
}

/// One walk request under way.
struct Walk {
    s3: Client,
    bucket: String,
    within: String,
    arn: String,
    matcher: Matcher,
    max_keys: u64,
    deadline: Instant,
    /// The first page, listed before the answer began.
    first: Option<ListObjectsV2Output>,
    token: Option<String>,
    scanned: u64,
    found: usize,
    /// The last key scanned: where the next request continues.
    position: Option<String>,
    ended: bool,
}

impl Walk {
    /// The next page searched, and the end line once the walk stops.
    async fn step(&mut self) -> Option<Vec<Line>> {
        if self.ended {
            return None;
        }
        let page = match self.first.take() {
            Some(page) => page,
            None => {
                let listed = self
                    .s3
                    .list_objects_v2()
                    .bucket(&self.bucket)
                    .prefix(&self.within)
                    .max_keys(PAGE)
                    .set_continuation_token(self.token.clone())
                    .send()
                    .await;
                match listed {
                    Ok(page) => page,
                    Err(err) => {
                        self.ended = true;
                        let err = s3_failure(err, Action::ListBucket, &self.arn);
                        return Some(vec![Line::Failed {
                            message: err.to_string(),
                            position: self.position.clone(),
                        }]);
                    }
                }
            }
        };
        let mut hits = Vec::new();
        let mut stop = None;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            self.scanned += 1;
            self.position = Some(key.to_owned());
            if self.matcher.matches(object) {
                hits.push(Hit {
                    key: key.to_owned(),
                    size: object.size().unwrap_or_default(),
                    modified: object.last_modified().and_then(rfc3339_from_aws),
                    class: object.storage_class().map(|c| c.as_str().to_owned()),
                });
                self.found += 1;
                if self.found >= MAX_HITS {
                    stop = Some(Stop::Hits);
                    break;
                }
            }
        }
        self.token = page.next_continuation_token().map(str::to_owned);
        let stop = stop.or(match () {
            _ if self.token.is_none() => Some(Stop::Complete),
            _ if self.scanned >= self.max_keys => Some(Stop::Keys),
            _ if Instant::now() >= self.deadline => Some(Stop::Time),
            _ => None,
        });
        let mut lines = vec![Line::Page {
            hits,
            scanned: self.scanned,
            position: self.position.clone().unwrap_or_default(),
        }];
        if let Some(stop) = stop {
            self.ended = true;
            lines.push(Line::End {
                scanned: self.scanned,
                position: (stop != Stop::Complete)
                    .then(|| self.position.clone())
                    .flatten(),
                stop,
            });
        }
        Some(lines)
    }
}
