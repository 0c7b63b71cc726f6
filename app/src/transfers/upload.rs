//! The uploader: files and whole folders, picked or dropped, each sent by the browser straight to
//! S3 on URLs the server signs. Small files are one PUT; large ones a multipart upload whose parts
//! go several at a time, are retried when they fail, and are aborted when cancelled.

use leptos::prelude::*;

use super::unfinished::Unfinished;
use crate::format::human_size;

/// Where an upload is. (Only the browser build moves uploads along.)
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum State {
    Waiting,
    Sending,
    Done,
    Cancelled,
    /// An object of that name exists, and the user chose to skip it.
    Skipped,
    Failed(String),
}

/// What to do with the files whose names are taken in the folder: asked once for a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Choice {
    Replace,
    /// Upload under the first free numbered name (`report (1).pdf`).
    KeepBoth,
    Skip,
}

/// `name (n).ext` in the same folder: the number goes before the last extension of the name.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn numbered(key: &str, n: u32) -> String {
    let renamed = |name: &str| match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    };
    match key.rsplit_once('/') {
        Some((folder, name)) => format!("{folder}/{}", renamed(name)),
        None => renamed(key),
    }
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
    /// The user chose to write over the object of this name.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // read by the browser's sender
    replace: bool,
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
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // read by the browser's sender
    owner: StoredValue<Owner>,
    /// How many of a batch's names are taken, while the user is asked what to do; the answer.
    taken: RwSignal<Option<usize>>,
    choice: RwSignal<Option<Choice>>,
}

impl Uploads {
    pub fn new() -> Self {
        Uploads {
            rows: RwSignal::new(Vec::new()),
            blocked_by_cors: RwSignal::new(false),
            at_once: RwSignal::new(AT_ONCE),
            owner: StoredValue::new(Owner::current().unwrap_or_default()),
            taken: RwSignal::new(None),
            choice: RwSignal::new(None),
        }
    }
}

#[cfg(feature = "hydrate")]
impl Uploads {
    /// Adds the files to the list and sends them to `(connection, bucket, folder)`.
    pub(super) fn send(
        self,
        files: Vec<web_sys::File>,
        (connection, bucket, prefix): (i64, String, String),
        uploaded: Callback<()>,
    ) {
        let to = send::Destination {
            connection,
            bucket,
            prefix,
        };
        self.owner.get_value().with(|| {
            send::queue(
                files,
                to,
                (self.rows, self.at_once.get_untracked()),
                (self.taken, self.choice),
                self.blocked_by_cors,
                uploaded,
            )
        });
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
        taken,
        choice,
        ..
    } = uploads;
    let dragging = RwSignal::new(false);
    let target = StoredValue::new((connection, bucket.clone(), prefix.clone()));
    #[cfg(feature = "hydrate")]
    let take = move |files: Vec<web_sys::File>| {
        let (connection, bucket, prefix) = target.get_value();
        uploads.send(files, (connection, bucket, prefix), uploaded);
    };
    #[cfg(not(feature = "hydrate"))]
    let _ = target;
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
            {move || taken.get().map(|n| view! {
                <div class="notice conflict" role="alert">
                    <p>{match n {
                        1 => "A file of the same name is already here.".to_owned(),
                        n => format!("{n} files of the same names are already here."),
                    }}</p>
                    <button type="button" class="button" on:click=move |_| choice.set(Some(Choice::Replace))>"Replace"</button>
                    <button type="button" class="button" on:click=move |_| choice.set(Some(Choice::KeepBoth))>"Keep both"</button>
                    <button type="button" class="button" on:click=move |_| choice.set(Some(Choice::Skip))>"Skip"</button>
                </div>
            })}
            <Unfinished uploads connection bucket=bucket.clone() folder=prefix.clone() uploaded/>
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
        ..
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
        State::Skipped => "Skipped: a file of this name is already here".to_owned(),
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
                .filter(|r| !matches!(r.state.get(), State::Cancelled | State::Skipped));
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
mod send;

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn a_kept_copy_is_numbered_before_its_extension() {
        assert_eq!(numbered("report.pdf", 1), "report (1).pdf");
        assert_eq!(numbered("a/b/archive.tar.gz", 2), "a/b/archive.tar (2).gz");
        assert_eq!(numbered("dir/.env", 1), "dir/.env (1)");
        assert_eq!(numbered("dir/Makefile", 3), "dir/Makefile (3)");
        assert_eq!(numbered("東京/写真 😀.jpg", 1), "東京/写真 😀 (1).jpg");
    }
}
