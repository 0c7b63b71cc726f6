//! "Download as zip" on a folder page: the chosen entries, or the whole folder when nothing is
//! chosen; progress (files, bytes, the file being read), cancel, and the files left out.

use std::sync::Arc;

use futures::FutureExt;
use leptos::prelude::*;

use super::{
    archive_name,
    job::{Job, Pages, Progress, Status},
};
use crate::format::human_size;

/// The button and what it reports. `selected`: the chosen keys and folders of the page
/// (`everything`: the whole folder, on every page). The pages are asked of the user's own
/// connection unless `pages` says otherwise (a share link's folder).
#[component]
pub fn ZipButton(
    connection: i64,
    bucket: String,
    folder: String,
    selected: Signal<Vec<String>>,
    everything: Signal<bool>,
    #[prop(optional)] pages: Option<Pages>,
) -> impl IntoView {
    let pages = pages.unwrap_or_else(|| {
        let (bucket, folder) = (bucket.clone(), folder.clone());
        let own: Pages = Arc::new(move |items, token| {
            super::zip_page(connection, bucket.clone(), folder.clone(), items, token).boxed_local()
        });
        own
    });
    let progress = Progress::idle();
    let chosen = move || match everything.get() {
        true => 0,
        false => selected.with(Vec::len),
    };
    let label = move || match chosen() {
        0 => "Download all as zip".to_owned(),
        n => format!("Download {n} as zip"),
    };
    let name = archive_name(&bucket, &folder);
    let start = {
        let name = name.clone();
        move |_| {
            let items = match chosen() {
                0 => vec![folder.clone()],
                _ => selected.get_untracked(),
            };
            let job = Job {
                pages: pages.clone(),
                items,
                name: name.clone(),
            };
            begin(job, progress);
        }
    };
    let running = move || progress.status.get() == Status::Running;
    view! {
        <button type="button" class="button" on:click=start disabled=running>{label}</button>
        {move || (progress.status.get() != Status::Idle).then(|| view! { <ZipReport progress name=name.clone()/> })}
    }
}

/// Starts a zip: asks where to save it first, while the click still counts as the user's.
fn begin(job: Job, progress: Progress) {
    #[cfg(feature = "hydrate")]
    {
        let picking = super::run::ask_where(&job.name);
        progress.start();
        leptos::task::spawn_local(async move {
            use super::run::{run, Destination, Stop};
            let name = job.name.clone();
            let ended = match Destination::open(picking, &name).await {
                Ok(mut destination) => match run(job, &mut destination, progress).await {
                    Ok(()) => destination.close(&name).await,
                    Err(stop) => {
                        destination.abort().await;
                        Err(stop)
                    }
                },
                Err(stop) => Err(stop),
            };
            progress.status.set(match ended {
                Ok(()) => Status::Saved,
                Err(Stop::Cancelled) => Status::Cancelled,
                Err(Stop::Failed(why)) => Status::Failed(why),
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (job, progress);
}

#[component]
fn ZipReport(progress: Progress, name: String) -> impl IntoView {
    let counts = move || {
        let ((files, known_files), (bytes, known_bytes)) =
            (progress.files.get(), progress.bytes.get());
        format!(
            "{files} of {known_files} files, {} of {}",
            human_size(bytes),
            human_size(known_bytes)
        )
    };
    let status = move || match progress.status.get() {
        Status::Running => format!("Zipping {name}: {}", counts()),
        Status::Saved => format!("Saved {name}: {}.", counts()),
        Status::Cancelled => format!("Cancelled {name}."),
        Status::Failed(why) => format!("The zip failed: {why}."),
        Status::Idle => String::new(),
    };
    let skipped = move || progress.skipped.get();
    view! {
        <div class="zip-progress" role="status" aria-label="Zip download"
            data-state=move || progress.status.get().name()>
            <p>{status}</p>
            {move || (progress.status.get() == Status::Running).then(|| view! {
                <progress max=move || progress.bytes.get().1.max(1) value=move || progress.bytes.get().0></progress>
                <p class="muted">{move || progress.current.get()}</p>
                <button type="button" class="button" on:click=move |_| progress.status.set(Status::Cancelled)>"Cancel"</button>
            })}
            {move || (!skipped().is_empty()).then(|| view! {
                <details class="zip-skipped">
                    <summary>{move || format!("{} left out", skipped().len())}</summary>
                    <ul>
                        {move || skipped().into_iter().map(|s| view! { <li><code>{s.key}</code>": "{s.why}</li> }).collect_view()}
                    </ul>
                </details>
            })}
        </div>
    }
}
