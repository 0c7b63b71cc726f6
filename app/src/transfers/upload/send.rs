//! The browser's half: XMLHttpRequest (for upload progress) on presigned URLs.

use std::{
    cell::RefCell,
    collections::{HashMap, HashSet},
    rc::Rc,
};

use futures::{channel::oneshot, future::join_all};
use leptos::{prelude::*, task::spawn_local};
use web_sys::{Blob, File, FileList};

use super::{numbered, Choice, Row, State};
use crate::transfers::{
    abort_upload, complete_upload, existing_keys, start_upload, upload_part_urls,
    xhr::{self, Failure},
    MultipartUpload, SentPart, UploadPlan,
};

/// The upload as this page holds it: each batch of part URLs renews its ticket.
type Upload = Rc<RefCell<MultipartUpload>>;

/// Part URLs are asked for this many at a time (per parallel slot).
const BATCH_PER_SLOT: u32 = 4;
/// A failed part is sent at most this many times.
const ATTEMPTS: u32 = 3;

pub struct Destination {
    pub connection: i64,
    pub bucket: String,
    pub prefix: String,
}

pub fn files_of(list: Option<FileList>) -> Vec<File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// Adds the files to the list and sends them, `at_once` at a time. Names already taken in the
/// folder are found first, and the user chooses once for all of them: replace, keep both (a
/// numbered name) or skip.
pub fn queue(
    files: Vec<File>,
    to: Destination,
    (rows, at_once): (RwSignal<Vec<Row>>, usize),
    (taken, choice): (RwSignal<Option<usize>>, RwSignal<Option<Choice>>),
    blocked_by_cors: RwSignal<bool>,
    uploaded: Callback<()>,
) {
    let named: Vec<(File, String)> = files
        .into_iter()
        .map(|file| {
            // A folder picked whole keeps its inner paths.
            // (`webkitRelativePath` is standard, but web-sys gates it as unstable.)
            let relative = js_sys::Reflect::get(&file, &"webkitRelativePath".into())
                .ok()
                .and_then(|v| v.as_string())
                .filter(|p| !p.is_empty());
            let name = relative.unwrap_or_else(|| file.name());
            let key = format!("{}{name}", to.prefix);
            (file, key)
        })
        .collect();
    // The rows' signals belong to the page (this runs in its owner), not to the task below.
    let owner = Owner::current().unwrap_or_default();
    spawn_local(async move {
        let (jobs, skipped) = settle(&to, named, (taken, choice), &owner).await;
        let rows_of =
            |jobs: &[(File, Row)]| jobs.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>();
        let added: Vec<Row> = rows_of(&jobs).into_iter().chain(skipped).collect();
        rows.try_update(|list| {
            // A file sent again replaces its old row.
            list.retain(|r| !added.iter().any(|a| a.key == r.key));
            list.extend(added.iter().cloned());
        });
        send_all(jobs, to, at_once, blocked_by_cors, uploaded);
    });
}

/// The files with the keys they go to, and the rows of those skipped: asks S3 which names are
/// taken (100 a request) and, if any, the user what to do with them.
async fn settle(
    to: &Destination,
    named: Vec<(File, String)>,
    (taken, choice): (RwSignal<Option<usize>>, RwSignal<Option<Choice>>),
    owner: &Owner,
) -> (Vec<(File, Row)>, Vec<Row>) {
    let keys: Vec<String> = named.iter().map(|(_, k)| k.clone()).collect();
    // A check that fails (a role that may not list) asks nothing: S3's conditional write still
    // refuses to overwrite, and says so on the file's row.
    let existing: HashSet<String> = exist(to, &keys).await.unwrap_or_default();
    let decision = match existing.is_empty() {
        true => None,
        false => {
            choice.try_set(None);
            taken.try_set(Some(existing.len()));
            let decided = loop {
                match choice.try_get_untracked() {
                    Some(Some(decided)) => break decided,
                    Some(None) => pause(100).await,
                    // The page is gone.
                    None => break Choice::Skip,
                }
            };
            taken.try_set(None);
            Some(decided)
        }
    };
    let (mut jobs, mut skipped) = (Vec::new(), Vec::new());
    for (file, key) in named {
        let clash = existing.contains(&key);
        let row = |key: String, replace: bool| {
            owner.with(|| Row {
                key,
                size: file.size(),
                sent: RwSignal::new(0.0),
                speed: RwSignal::new(0.0),
                state: RwSignal::new(State::Waiting),
                cancel: RwSignal::new(false),
                replace,
            })
        };
        match (clash, decision) {
            (false, _) => jobs.push((file.clone(), row(key, false))),
            (true, Some(Choice::Replace)) => jobs.push((file.clone(), row(key, true))),
            (true, Some(Choice::KeepBoth)) => match free_name(to, &key).await {
                Some(free) => jobs.push((file.clone(), row(free, false))),
                None => {
                    let kept = row(key, false);
                    kept.state.try_set(State::Failed(
                        "no free numbered name (1 to 20) is left".into(),
                    ));
                    skipped.push(kept);
                }
            },
            (true, _) => {
                let kept = row(key, false);
                kept.state.try_set(State::Skipped);
                skipped.push(kept);
            }
        }
    }
    (jobs, skipped)
}

/// Which of `keys` name objects already.
async fn exist(to: &Destination, keys: &[String]) -> Result<HashSet<String>, Failure> {
    let mut found = HashSet::new();
    for chunk in keys.chunks(100) {
        let (bucket, folder) = (to.bucket.clone(), to.prefix.clone());
        found.extend(existing_keys(to.connection, bucket, folder, chunk.to_vec()).await?);
    }
    Ok(found)
}

/// The first of `name (1).ext` … `name (20).ext` that names nothing yet.
async fn free_name(to: &Destination, key: &str) -> Option<String> {
    let candidates: Vec<String> = (1..=20).map(|n| numbered(key, n)).collect();
    let taken = exist(to, &candidates).await.ok()?;
    candidates.into_iter().find(|c| !taken.contains(c))
}

/// Sends the files, `at_once` at a time.
fn send_all(
    jobs: Vec<(File, Row)>,
    to: Destination,
    at_once: usize,
    blocked_by_cors: RwSignal<bool>,
    uploaded: Callback<()>,
) {
    // Each worker takes the next file waiting until none is left.
    let waiting = Rc::new(RefCell::new(std::collections::VecDeque::from(jobs)));
    let to = Rc::new(to);
    for _ in 0..at_once.max(1) {
        let (waiting, to) = (waiting.clone(), to.clone());
        spawn_local(async move {
            loop {
                let next = waiting.borrow_mut().pop_front();
                let Some((file, row)) = next else { break };
                if row.cancelled() {
                    row.state.try_set(State::Cancelled);
                    continue;
                }
                row.state.try_set(State::Sending);
                let outcome = send_file(&to, &file, &row).await;
                row.state.try_set(match outcome {
                    Ok(()) => {
                        uploaded.try_run(());
                        State::Done
                    }
                    Err(Failure::Cancelled) => State::Cancelled,
                    Err(Failure::Blocked) => {
                        blocked_by_cors.try_set(true);
                        State::Failed("the browser could not reach S3 (CORS?)".into())
                    }
                    Err(Failure::Other(why)) => State::Failed(why),
                });
            }
        });
    }
}

async fn send_file(to: &Destination, file: &File, row: &Row) -> Result<(), Failure> {
    let content_type = file.type_();
    let plan = start_upload(
        to.connection,
        to.bucket.clone(),
        row.key.clone(),
        file.size() as u64,
        content_type,
        row.replace,
    )
    .await?;
    let started = js_sys::Date::now();
    let progress = move |sent: f64| {
        row.sent.try_set(sent);
        let seconds = (js_sys::Date::now() - started) / 1000.0;
        if seconds > 0.0 {
            row.speed.try_set(sent / seconds);
        }
    };
    match plan {
        UploadPlan::Single {
            url,
            content_type,
            if_none_match,
        } => {
            let only_new = if_none_match.then_some(("If-None-Match", "*"));
            let headers: Vec<(&str, &str)> = [("Content-Type", content_type.as_str())]
                .into_iter()
                .chain(only_new)
                .collect();
            match put(&url, file, &headers, &progress, row.cancel).await {
                // The name was taken after the check: S3 kept the object that is there.
                Err(Failure::Other(why)) if why.contains("HTTP 412") => Err(Failure::Other(
                    crate::error::AppError::ObjectExists.to_string(),
                )),
                Err(failure) => Err(failure),
                Ok(_) => {
                    progress(row.size);
                    Ok(())
                }
            }
        }
        UploadPlan::Multipart {
            upload,
            part_size,
            parts,
            parallel,
            held,
        } => {
            let upload: Upload = Rc::new(RefCell::new(upload));
            let layout = Layout {
                part_size,
                parts,
                parallel,
                held,
            };
            let sent = send_parts(to, file, row, &upload, &layout, &progress).await;
            let upload = upload.borrow().clone();
            let finished = match sent {
                Ok(etags) => complete_upload(
                    to.connection,
                    to.bucket.clone(),
                    row.key.clone(),
                    upload.clone(),
                    etags,
                    row.replace,
                )
                .await
                .map_err(Failure::from),
                Err(failure) => Err(failure),
            };
            if finished.is_err() {
                // Nothing half-sent stays behind in the bucket (or on its bill).
                let _ =
                    abort_upload(to.connection, to.bucket.clone(), row.key.clone(), upload).await;
            }
            finished
        }
    }
}

/// A multipart upload's parts as the server planned them, and those S3 already holds.
struct Layout {
    part_size: u64,
    parts: u32,
    parallel: u32,
    held: Vec<SentPart>,
}

/// Sends every part S3 does not hold yet, `parallel` at a time, on URLs fetched a batch at a
/// time; returns all the parts' ETags for completion.
async fn send_parts(
    to: &Destination,
    file: &File,
    row: &Row,
    upload: &Upload,
    layout: &Layout,
    progress: &dyn Fn(f64),
) -> Result<Vec<SentPart>, Failure> {
    let Layout {
        part_size,
        parts,
        parallel,
        ..
    } = *layout;
    let held: HashSet<u32> = layout.held.iter().map(|p| p.number as u32).collect();
    let length = |number: u32| {
        let start = (number as u64 - 1) * part_size;
        (start + part_size).min(file.size() as u64) - start
    };
    let in_flight: Rc<RefCell<HashMap<u32, f64>>> = Rc::default();
    let already: u64 = held.iter().map(|n| length(*n)).sum();
    let done_bytes = Rc::new(RefCell::new(already as f64));
    progress(already as f64);
    let mut sent = layout.held.clone();
    let batch = (parallel * BATCH_PER_SLOT).min(100);
    let mut first = 1;
    while first <= parts {
        let count = batch.min(parts - first + 1);
        if (first..first + count).all(|n| held.contains(&n)) {
            first += count;
            continue;
        }
        let urls = part_urls(to, row, upload, first, count).await?;
        let queue = Rc::new(RefCell::new(
            (first..first + count)
                .zip(urls)
                .filter(|(number, _)| !held.contains(number))
                .collect::<Vec<_>>(),
        ));
        queue.borrow_mut().reverse();
        let slot = || {
            let queue = queue.clone();
            let in_flight = in_flight.clone();
            let done_bytes = done_bytes.clone();
            async move {
                let mut etags = Vec::new();
                loop {
                    let next = queue.borrow_mut().pop();
                    let Some((number, url)) = next else {
                        return Ok(etags);
                    };
                    let start = (number as u64 - 1) * part_size;
                    let end = (start + part_size).min(file.size() as u64);
                    let blob = file
                        .slice_with_f64_and_f64(start as f64, end as f64)
                        .map_err(|_| Failure::Other("the file could not be read".into()))?;
                    let report = |loaded: f64| {
                        in_flight.borrow_mut().insert(number, loaded);
                        let total = *done_bytes.borrow() + in_flight.borrow().values().sum::<f64>();
                        progress(total);
                    };
                    let etag = send_part(to, row, upload, number, url, &blob, &report).await?;
                    in_flight.borrow_mut().remove(&number);
                    *done_bytes.borrow_mut() += (end - start) as f64;
                    etags.push(SentPart {
                        number: number as i32,
                        etag,
                    });
                }
            }
        };
        let slots: Vec<Result<Vec<SentPart>, Failure>> =
            join_all((0..parallel.min(count)).map(|_| slot())).await;
        for result in slots {
            sent.extend(result?);
        }
        first += count;
    }
    Ok(sent)
}

/// One part, tried up to three times; a retry gets a fresh URL (the old one may have expired).
async fn send_part(
    to: &Destination,
    row: &Row,
    upload: &Upload,
    number: u32,
    mut url: String,
    blob: &Blob,
    report: &dyn Fn(f64),
) -> Result<String, Failure> {
    let mut attempt = 1;
    loop {
        match put(&url, blob, &[], report, row.cancel).await {
            Ok(Some(etag)) => return Ok(etag),
            // Without ETag the upload cannot be completed: the bucket's CORS hides it.
            Ok(None) => return Err(Failure::Blocked),
            Err(Failure::Cancelled) => return Err(Failure::Cancelled),
            Err(failure) if attempt >= ATTEMPTS => return Err(failure),
            Err(_) => {
                attempt += 1;
                report(0.0);
                pause(500 * attempt).await;
                let fresh = part_urls(to, row, upload, number, 1).await?;
                url = fresh.into_iter().next().unwrap_or(url);
            }
        }
    }
}

/// Presigned URLs for parts `first..first + count` of the row's upload; keeps the renewed
/// ticket that comes with them.
async fn part_urls(
    to: &Destination,
    row: &Row,
    upload: &Upload,
    first: u32,
    count: u32,
) -> Result<Vec<String>, Failure> {
    let (first, count) = (first as i32, count as i32);
    let (bucket, key, held) = (to.bucket.clone(), row.key.clone(), upload.borrow().clone());
    let batch = upload_part_urls(to.connection, bucket, key, held, first, count).await?;
    upload.borrow_mut().ticket = batch.ticket;
    Ok(batch.urls)
}

async fn pause(millis: u32) {
    let (done, wait) = oneshot::channel::<()>();
    set_timeout(
        move || {
            let _ = done.send(());
        },
        std::time::Duration::from_millis(millis.into()),
    );
    let _ = wait.await;
}

/// One PUT of `body` to a presigned URL, reporting bytes sent; returns S3's ETag (when the
/// bucket's CORS exposes it).
async fn put(
    url: &str,
    body: &Blob,
    headers: &[(&str, &str)],
    report: &dyn Fn(f64),
    cancel: RwSignal<bool>,
) -> Result<Option<String>, Failure> {
    let xhr = xhr::send("PUT", url, headers, Some(body), report, cancel).await?;
    Ok(xhr.get_response_header("ETag").ok().flatten())
}
