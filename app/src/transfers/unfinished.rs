//! "Unfinished uploads" on a folder page: the multipart uploads S3 holds unfinished here and
//! below, what each holds and since when; resume one by picking its file again, or abort it.
//! Listed when the user opens the section (one assumption then, none on every page view).

use leptos::prelude::*;

use super::{
    abort_upload, unfinished_uploads, Cleanup, MultipartUpload, UnfinishedList, UnfinishedUpload,
    Uploads,
};
use crate::{error::AppError, format::human_size, location::name_in, ui::ErrorNotice};

#[component]
pub fn Unfinished(
    uploads: Uploads,
    connection: i64,
    bucket: String,
    folder: String,
    uploaded: Callback<()>,
) -> impl IntoView {
    let listed = RwSignal::new(None::<Result<UnfinishedList, AppError>>);
    let open = RwSignal::new(false);
    let place = StoredValue::new((bucket, folder));
    let load = move || {
        let (bucket, folder) = place.get_value();
        leptos::task::spawn_local(async move {
            let answer = unfinished_uploads(connection, bucket, folder).await;
            listed.try_set(Some(answer));
        });
    };
    // `toggle` fires on each opening and closing: listed afresh on each opening.
    let on_toggle = move |_| {
        open.update(|o| *o = !*o);
        if open.get_untracked() {
            listed.set(None);
            load();
        }
    };
    let abort = Callback::new(move |upload: UnfinishedUpload| {
        let (bucket, _) = place.get_value();
        leptos::task::spawn_local(async move {
            let id = MultipartUpload {
                id: upload.id,
                ticket: String::new(),
            };
            match abort_upload(connection, bucket, upload.key, id).await {
                Ok(()) => load(),
                Err(err) => {
                    listed.try_set(Some(Err(err)));
                }
            }
        });
    });
    // Resuming: the picked file goes to the unfinished upload's own folder under its own name,
    // where the uploader finds the upload in S3 and sends only the parts it lacks. Another
    // file's name is refused here (its size, by the server: another size starts anew).
    let resume = Callback::new(move |(key, _ev): (String, leptos::ev::Event)| {
        #[cfg(feature = "hydrate")]
        {
            let input: web_sys::HtmlInputElement = event_target(&_ev);
            let file = input.files().and_then(|list| list.get(0));
            input.set_value("");
            let file = file?;
            let into = crate::location::folder_of(&key);
            let wanted = name_in(&key, into);
            if file.name() != wanted {
                return Some(format!(
                    "This upload is of a file named “{wanted}”, not “{}”: pick that file.",
                    file.name()
                ));
            }
            let (bucket, _) = place.get_value();
            uploads.send(vec![file], (connection, bucket, into.to_owned()), uploaded);
            None
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (key, uploads, uploaded);
            None
        }
    });
    let folder = place.get_value().1;
    view! {
        <details class="unfinished" on:toggle=on_toggle>
            <summary>"Unfinished uploads"</summary>
            {move || match listed.get() {
                None if open.get() => view! { <p class="muted" role="status">"Asking S3 for unfinished uploads…"</p> }.into_any(),
                None => ().into_any(),
                Some(Err(err)) => view! { <ErrorNotice error=Signal::derive(move || Some(err.clone()))/> }.into_any(),
                Some(Ok(found)) => view! {
                    <CleanupLine cleanup=found.cleanup.clone()/>
                    {found.uploads.is_empty().then(|| view! { <p class="muted">"No unfinished uploads here."</p> })}
                    <ul class="unfinished-list">
                        {found.uploads.into_iter().map(|u| view! { <UnfinishedRow upload=u folder=folder.clone() abort resume/> }).collect_view()}
                    </ul>
                    {found.more.then(|| view! { <p class="muted">"S3 holds more unfinished uploads than these 1,000: abort some to see the rest."</p> })}
                }.into_any(),
            }}
        </details>
    }
}

#[component]
fn UnfinishedRow(
    upload: UnfinishedUpload,
    folder: String,
    abort: Callback<UnfinishedUpload>,
    resume: Callback<(String, leptos::ev::Event), Option<String>>,
) -> impl IntoView {
    let shown = name_in(&upload.key, &folder).to_owned();
    let held = match upload.held {
        Some((parts, bytes)) => format!("{parts} parts, {} sent", human_size(bytes)),
        None => "parts not counted".to_owned(),
    };
    let age = upload
        .age_seconds
        .map(|s| format!(" · started {}", ago(s)))
        .unwrap_or_default();
    let wrong_file = RwSignal::new(None::<String>);
    let key = upload.key.clone();
    let on_pick = move |ev: leptos::ev::Event| wrong_file.set(resume.run((key.clone(), ev)));
    let label = format!("Abort the upload of {shown}");
    view! {
        <li class="unfinished-upload">
            <span class="upload-name">{shown.clone()}</span>
            <span class="muted">{held}{age}</span>
            <label class="button">
                "Resume…"
                <input type="file" class="visually-hidden" aria-label=format!("Pick {shown} to resume its upload") on:change=on_pick/>
            </label>
            <button type="button" class="button danger" aria-label=label on:click=move |_| abort.run(upload.clone())>"Abort"</button>
            {move || wrong_file.get().map(|why| view! { <p class="notice error" role="alert">{why}</p> })}
        </li>
    }
}

/// What cleans up the folder's unfinished uploads, and what to do when nothing does.
#[component]
fn CleanupLine(cleanup: Cleanup) -> impl IntoView {
    match cleanup {
        Cleanup::AfterDays(days) => view! {
            <p class="muted">{format!("This bucket's lifecycle rules abort unfinished uploads here {days} days after they began.")}</p>
        }.into_any(),
        Cleanup::None => view! {
            <p class="notice">"No lifecycle rule of this bucket aborts unfinished uploads here: S3 keeps (and bills) their parts until they are aborted. A rule with “Delete incomplete multipart uploads” (AbortIncompleteMultipartUpload) cleans them up."</p>
        }.into_any(),
        Cleanup::Unknown(why) => view! {
            <p class="muted">{format!("Whether a lifecycle rule cleans them up is unknown: {why}")}</p>
        }.into_any(),
    }
}

/// `5 min ago`, `3 h ago`, `2 days ago`.
fn ago(seconds: u64) -> String {
    match seconds {
        s if s < 60 => "just now".to_owned(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 2 * 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages_read_in_the_largest_whole_unit() {
        assert_eq!(super::ago(5), "just now");
        assert_eq!(super::ago(125), "2 min ago");
        assert_eq!(super::ago(3 * 3600 + 5), "3 h ago");
        assert_eq!(super::ago(5 * 86_400), "5 days ago");
    }
}
