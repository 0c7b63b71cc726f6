//! The uploader: files and whole folders, picked or dropped, each sent by the browser straight to
//! S3 on URLs the server signs. Small files are one PUT; large ones a multipart upload whose parts
//! go several at a time, are retried when they fail, and are aborted when cancelled.

use leptos::prelude::*;

use crate::format::human_size;

/// Where an upload is. (Only the browser build moves uploads along.)
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum State {
    Waiting,
    Sending,
    Done,
    Cancelled,
    Failed(String),
}

/// One file in the upload list. Signals only, so the list can live in the page's reactive tree.
/// Uploads outlive the page that started them (the user may go elsewhere), so the sending side
/// only ever uses `try_` accessors: a page that is gone cancels its uploads, never panics.
#[derive(Clone)]
struct Row {
    key: String,
    size: f64,
    /// Bytes S3 has received so far.
    sent: RwSignal<f64>,
    /// Bytes per second since the upload began.
    speed: RwSignal<f64>,
    state: RwSignal<State>,
    cancel: RwSignal<bool>,
}

impl Row {
    #[cfg(feature = "hydrate")]
    fn cancelled(&self) -> bool {
        self.cancel.try_get_untracked().unwrap_or(true)
    }
}

/// Files an uploader sends at once unless the user picks another number.
const AT_ONCE: usize = 3;

/// What the browser must allow for transfers: shown when a transfer fails the way a missing
/// bucket CORS rule makes it fail.
pub fn cors_rule(origin: &str) -> String {
    let rule = serde_json::json!([{
        "AllowedOrigins": [origin],
        "AllowedMethods": ["GET", "PUT", "HEAD"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3000,
    }]);
    serde_json::to_string_pretty(&rule).unwrap_or_default()
}

/// A folder page's uploads. Created by the page, outside what re-renders when the listing is
/// fetched again, so that uploads and their rows outlive every re-render of the uploader.
#[derive(Clone, Copy)]
pub struct Uploads {
    rows: RwSignal<Vec<Row>>,
    blocked_by_cors: RwSignal<bool>,
    /// Files sent at once (the user picks; each large one sends several parts at once too).
    at_once: RwSignal<usize>,
    /// The page's reactive owner: each row's signals belong to it, not to an event handler.
    owner: StoredValue<Owner>,
}

impl Uploads {
    pub fn new() -> Self {
        Uploads {
            rows: RwSignal::new(Vec::new()),
            blocked_by_cors: RwSignal::new(false),
            at_once: RwSignal::new(AT_ONCE),
            owner: StoredValue::new(Owner::current().unwrap_or_default()),
        }
    }
}

impl Default for Uploads {
    fn default() -> Self {
        Self::new()
    }
}

/// Upload buttons, a drop zone and the list of uploads with progress, speed and cancel.
/// `uploaded` runs after each file that arrived (the page lists the folder again).
#[component]
pub fn Uploader(
    uploads: Uploads,
    connection: i64,
    bucket: String,
    prefix: String,
    #[prop(into)] uploaded: Callback<()>,
) -> impl IntoView {
    let Uploads {
        rows,
        blocked_by_cors,
        at_once,
        owner,
    } = uploads;
    let dragging = RwSignal::new(false);
    let target = StoredValue::new((connection, bucket, prefix));
    #[cfg(feature = "hydrate")]
    let take = move |files: Vec<web_sys::File>| {
        let (connection, bucket, prefix) = target.get_value();
        let to = send::Destination {
            connection,
            bucket,
            prefix,
        };
        owner.get_value().with(|| {
            send::queue(
                files,
                to,
                (rows, at_once.get_untracked()),
                blocked_by_cors,
                uploaded,
            )
        });
    };
    #[cfg(not(feature = "hydrate"))]
    let _ = (target, uploaded, owner);
    let on_pick = move |_ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let input: web_sys::HtmlInputElement = event_target(&_ev);
            take(send::files_of(input.files()));
            input.set_value("");
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        #[cfg(feature = "hydrate")]
        take(send::files_of(ev.data_transfer().and_then(|d| d.files())));
    };
    view! {
        <section
            class="uploader card"
            class:dragging=move || dragging.get()
            aria-label="Upload"
            on:dragover=move |ev| { ev.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <div class="upload-actions">
                <label class="button">
                    "Upload files"
                    <input type="file" multiple class="visually-hidden" on:change=on_pick/>
                </label>
                <label class="button">
                    "Upload a folder"
                    <input type="file" multiple prop:webkitdirectory=true class="visually-hidden" on:change=on_pick/>
                </label>
                <span class="muted">"or drop files here"</span>
                <label class="at-once">"Files at once "
                    <select on:change=move |ev| at_once.set(event_target_value(&ev).parse().unwrap_or(AT_ONCE))>
                        {[1usize, 2, 3, 4, 6].map(|n| view! { <option value=n selected=n == AT_ONCE>{n}</option> })}
                    </select>
                </label>
            </div>
            <Overall rows/>
            <Show when=move || blocked_by_cors.get()>
                <div class="notice error" role="alert">
                    <p>"The browser could not reach the bucket. Its CORS configuration must allow this site and expose ETag. In the S3 console (bucket → Permissions → Cross-origin resource sharing), apply:"</p>
                    <pre class="code">{move || cors_rule(&crate::ui::site_origin())}</pre>
                </div>
            </Show>
            <ul class="uploads" aria-live="polite">
                <For each=move || rows.get() key=|row| row.key.clone() let:row>
                    <UploadRow row=row/>
                </For>
            </ul>
        </section>
    }
}

#[component]
fn UploadRow(row: Row) -> impl IntoView {
    let Row {
        key,
        size,
        sent,
        speed,
        state,
        cancel,
    } = row;
    let percent = move || {
        if size > 0.0 {
            (sent.get() / size * 100.0).min(100.0)
        } else {
            100.0
        }
    };
    let status = move || match state.get() {
        State::Waiting => format!("Waiting · {}", human_size(size as u64)),
        State::Sending => format!(
            "{:.0}% · {} of {} · {}/s · {}",
            percent(),
            human_size(sent.get() as u64),
            human_size(size as u64),
            human_size(speed.get() as u64),
            time_left(size - sent.get(), speed.get())
        ),
        State::Done => format!("Uploaded · {}", human_size(size as u64)),
        State::Cancelled => "Cancelled".to_owned(),
        State::Failed(why) => format!("Failed: {why}"),
    };
    let active = move || matches!(state.get(), State::Waiting | State::Sending);
    view! {
        <li class="upload" data-state=move || format!("{:?}", state.get()).split('(').next().unwrap_or_default().to_lowercase()>
            <span class="upload-name">{key.clone()}</span>
            <progress max="100" value=percent aria-label=format!("Progress of {key}")></progress>
            <span class="upload-status">{status}</span>
            <Show when=active>
                <button type="button" class="link" on:click=move |_| cancel.set(true)>"Cancel"</button>
            </Show>
        </li>
    }
}

/// The batch as a whole: files done of all, bytes, and the time left at the current speed.
#[component]
fn Overall(rows: RwSignal<Vec<Row>>) -> impl IntoView {
    let totals = move || {
        rows.with(|rows| {
            let live = rows
                .iter()
                .filter(|r| !matches!(r.state.get(), State::Cancelled));
            let (mut size, mut sent, mut speed, mut done, mut all) = (0.0, 0.0, 0.0, 0, 0);
            for row in live {
                all += 1;
                size += row.size;
                match row.state.get() {
                    State::Done => {
                        done += 1;
                        sent += row.size;
                    }
                    State::Sending => {
                        sent += row.sent.get();
                        speed += row.speed.get();
                    }
                    _ => {}
                }
            }
            (size, sent, speed, done, all)
        })
    };
    move || {
        let (size, sent, speed, done, all) = totals();
        (all > 1).then(|| {
            let percent = if size > 0.0 { (sent / size * 100.0).min(100.0) } else { 100.0 };
            let left = (done < all).then(|| format!(" · {}", time_left(size - sent, speed)));
            view! {
                <div class="upload-overall">
                    <progress max="100" value=percent aria-label="All uploads"></progress>
                    <span>{format!("{done} of {all} files · {} of {}", human_size(sent as u64), human_size(size as u64))}{left}</span>
                </div>
            }
        })
    }
}

/// `12 s left`, `3 min left`; unknown until something was sent.
fn time_left(bytes: f64, speed: f64) -> String {
    if speed <= 0.0 {
        return "time left unknown".to_owned();
    }
    match (bytes.max(0.0) / speed).ceil() as u64 {
        s if s < 60 => format!("{s} s left"),
        s if s < 3600 => format!("{} min left", s.div_ceil(60)),
        s => format!("{} h {} min left", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(feature = "hydrate")]
mod send {
    //! The browser's half: XMLHttpRequest (for upload progress) on presigned URLs.

    use std::{cell::RefCell, collections::HashMap, rc::Rc};

    use futures::{channel::oneshot, future::join_all};
    use leptos::{prelude::*, task::spawn_local};
    use web_sys::{Blob, File, FileList};

    use super::{Row, State};
    use crate::transfers::{
        abort_upload, complete_upload, start_upload, upload_part_urls,
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

    /// Adds the files to the list and sends them, `at_once` at a time.
    pub fn queue(
        files: Vec<File>,
        to: Destination,
        (rows, at_once): (RwSignal<Vec<Row>>, usize),
        blocked_by_cors: RwSignal<bool>,
        uploaded: Callback<()>,
    ) {
        let jobs: Vec<(File, Row)> = files
            .into_iter()
            .map(|file| {
                // A folder picked whole keeps its inner paths.
                // (`webkitRelativePath` is standard, but web-sys gates it as unstable.)
                let relative = js_sys::Reflect::get(&file, &"webkitRelativePath".into())
                    .ok()
                    .and_then(|v| v.as_string())
                    .filter(|p| !p.is_empty());
                let name = relative.unwrap_or_else(|| file.name());
                let row = Row {
                    key: format!("{}{name}", to.prefix),
                    size: file.size(),
                    sent: RwSignal::new(0.0),
                    speed: RwSignal::new(0.0),
                    state: RwSignal::new(State::Waiting),
                    cancel: RwSignal::new(false),
                };
                (file, row)
            })
            .collect();
        rows.try_update(|list| {
            // A file sent again replaces its old row.
            list.retain(|r| !jobs.iter().any(|(_, j)| j.key == r.key));
            list.extend(jobs.iter().map(|(_, r)| r.clone()));
        });
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
            UploadPlan::Single { url, content_type } => {
                put(&url, file, Some(&content_type), &progress, row.cancel).await?;
                progress(row.size);
                Ok(())
            }
            UploadPlan::Multipart {
                upload,
                part_size,
                parts,
                parallel,
            } => {
                let upload: Upload = Rc::new(RefCell::new(upload));
                let sent = send_parts(
                    to, file, row, &upload, part_size, parts, parallel, &progress,
                )
                .await;
                let upload = upload.borrow().clone();
                let finished = match sent {
                    Ok(etags) => complete_upload(
                        to.connection,
                        to.bucket.clone(),
                        row.key.clone(),
                        upload.clone(),
                        etags,
                    )
                    .await
                    .map_err(Failure::from),
                    Err(failure) => Err(failure),
                };
                if finished.is_err() {
                    // Nothing half-sent stays behind in the bucket (or on its bill).
                    let _ = abort_upload(to.connection, to.bucket.clone(), row.key.clone(), upload)
                        .await;
                }
                finished
            }
        }
    }

    /// Sends every part, `parallel` at a time, on URLs fetched a batch at a time; returns the
    /// parts' ETags for completion.
    #[allow(clippy::too_many_arguments)]
    async fn send_parts(
        to: &Destination,
        file: &File,
        row: &Row,
        upload: &Upload,
        part_size: u64,
        parts: u32,
        parallel: u32,
        progress: &dyn Fn(f64),
    ) -> Result<Vec<SentPart>, Failure> {
        let in_flight: Rc<RefCell<HashMap<u32, f64>>> = Rc::default();
        let done_bytes = Rc::new(RefCell::new(0.0));
        let mut sent = Vec::with_capacity(parts as usize);
        let batch = (parallel * BATCH_PER_SLOT).min(100);
        let mut first = 1;
        while first <= parts {
            let count = batch.min(parts - first + 1);
            let urls = part_urls(to, row, upload, first, count).await?;
            let queue = Rc::new(RefCell::new(
                (first..first + count).zip(urls).collect::<Vec<_>>(),
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
                            let total =
                                *done_bytes.borrow() + in_flight.borrow().values().sum::<f64>();
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
            match put(&url, blob, None, report, row.cancel).await {
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
        content_type: Option<&str>,
        report: &dyn Fn(f64),
        cancel: RwSignal<bool>,
    ) -> Result<Option<String>, Failure> {
        let headers: Vec<(&str, &str)> = content_type
            .map(|c| ("Content-Type", c))
            .into_iter()
            .collect();
        let xhr = xhr::send("PUT", url, &headers, Some(body), report, cancel).await?;
        Ok(xhr.get_response_header("ETag").ok().flatten())
    }
}
