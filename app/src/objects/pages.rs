//! The controls for managing one object: its actions (rename, copy or move, delete) and its
//! versions. A folder's toolbar is in `toolbar.rs`.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::{copy, delete, restore_version, versions};
use crate::{
    error::AppError,
    format::{human_size, minutes},
    location::{folder_href, folder_of, object_href},
    transfers::version_href,
    ui::ErrorNotice,
};

/// An object's actions: rename, copy or move to another key, delete.
#[component]
pub fn ObjectActions(connection: i64, bucket: String, key: String) -> impl IntoView {
    let destination = RwSignal::new(key.clone());
    let confirm_delete = RwSignal::new(false);
    let place = StoredValue::new((bucket, key));
    let navigate = use_navigate();
    let run_copy = Action::new(move |remove_source: &bool| {
        let (bucket, key) = place.get_value();
        let to = destination.get_untracked().trim().to_owned();
        let remove_source = *remove_source;
        async move {
            let report = copy(connection, bucket, key, to.clone(), remove_source).await?;
            match report.failed.first() {
                Some((_, why)) => Err(AppError::Request(why.clone())),
                None => Ok(to),
            }
        }
    });
    let run_delete = Action::new(move |_: &()| {
        let (bucket, key) = place.get_value();
        let within = folder_of(&key).to_owned();
        async move {
            let report = delete(
                connection,
                bucket,
                within,
                vec![key],
                Vec::new(),
                String::new(),
            )
            .await?;
            match report.failed.first() {
                Some((_, why)) => Err(AppError::Request(why.clone())),
                None => Ok(()),
            }
        }
    });
    // Success moves to the object's new place (or its folder); a failure stays here, told.
    let go = navigate.clone();
    Effect::new(move || {
        if let Some(Ok(to)) = run_copy.value().get() {
            let (bucket, _) = place.get_value();
            go(&object_href(connection, &bucket, &to), Default::default());
        }
    });
    Effect::new(move || {
        if let Some(Ok(())) = run_delete.value().get() {
            let (bucket, key) = place.get_value();
            navigate(
                &folder_href(connection, &bucket, folder_of(&key)),
                Default::default(),
            );
        }
    });
    let error = Signal::derive(move || {
        let failed = |value: Option<Result<_, AppError>>| value.and_then(Result::err);
        failed(run_copy.value().get().map(|r| r.map(|_| ()))).or(failed(run_delete.value().get()))
    });
    view! {
        <section class="card object-actions" aria-label="Manage">
            <form class="inline-form" on:submit=move |ev| ev.prevent_default()>
                <label for="destination">"Key"</label>
                <input id="destination" type="text" spellcheck="false" prop:value=move || destination.get()
                    on:input=move |ev| destination.set(event_target_value(&ev))/>
                <button type="button" disabled=move || run_copy.pending().get()
                    on:click=move |_| { run_copy.dispatch(true); }>"Rename / move"</button>
                <button type="button" disabled=move || run_copy.pending().get()
                    on:click=move |_| { run_copy.dispatch(false); }>"Copy to…"</button>
                <Show when=move || run_copy.pending().get()><span class="loading" role="status">"Copying…"</span></Show>
            </form>
            <div class="inline-form">
                <Show when=move || confirm_delete.get() fallback=move || view! {
                    <button type="button" class="danger" on:click=move |_| confirm_delete.set(true)>"Delete"</button>
                }>
                    <span>"Delete this object? This cannot be undone."</span>
                    <button type="button" class="danger" disabled=move || run_delete.pending().get()
                        on:click=move |_| { run_delete.dispatch(()); }>"Delete it"</button>
                    <button type="button" on:click=move |_| confirm_delete.set(false)>"Keep it"</button>
                </Show>
            </div>
            <ErrorNotice error=error/>
        </section>
    }
}

/// An object's versions, asked for when wanted (a ListObjectVersions each time): download any,
/// restore an older one over the current.
#[component]
pub fn Versions(connection: i64, bucket: String, key: String) -> impl IntoView {
    let place = StoredValue::new((bucket, key));
    let load = Action::new(move |_: &()| {
        let (bucket, key) = place.get_value();
        async move { versions(connection, bucket, key).await }
    });
    let restore = Action::new(move |version: &String| {
        let (bucket, key) = place.get_value();
        let version = version.clone();
        async move { restore_version(connection, bucket, key, version).await }
    });
    Effect::new(move || {
        if let Some(Ok(())) = restore.value().get() {
            load.dispatch(());
        }
    });
    let restore_error = Signal::derive(move || restore.value().get().and_then(Result::err));
    view! {
        <section class="card versions" aria-label="Versions">
            <button type="button" on:click=move |_| { load.dispatch(()); }>"Show versions"</button>
            <ErrorNotice error=restore_error/>
            {move || load.value().get().map(|result| match result {
                Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                Ok(list) if list.len() <= 1 => view! {
                    <p class="muted">"No earlier versions (the bucket may not keep versions)."</p>
                }.into_any(),
                Ok(list) => {
                    let (bucket, key) = place.get_value();
                    view! {
                        <table class="listing">
                            <thead><tr><th>"Version"</th><th>"Saved"</th><th>"Size"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|v| {
                                    let label = match (v.latest, v.deleted) {
                                        (_, true) => " (deleted)",
                                        (true, false) => " (current)",
                                        _ => "",
                                    };
                                    let id = v.id.clone();
                                    view! {
                                        <tr>
                                            <td><code>{v.id.clone()}</code>{label}</td>
                                            <td>{v.last_modified.as_deref().map(minutes).unwrap_or_default()}</td>
                                            <td>{human_size(v.size.unsigned_abs())}</td>
                                            <td>{(!v.deleted).then(|| view! {
                                                <a href=version_href(connection, &bucket, &key, &v.id) rel="external nofollow">"Download"</a>
                                            })}
                                            {(!v.latest && !v.deleted).then(|| view! {
                                                " "<button type="button" class="link" on:click=move |_| { restore.dispatch(id.clone()); }>"Restore"</button>
                                            })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }
            })}
        </section>
    }
}
