//! The controls for managing objects: a folder's toolbar (new folder, rename, delete the
//! selection) and an object's actions (rename, copy or move, delete).

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::{copy, count_folder, delete, restore_version, versions, Report};
use crate::{
    browse::location::{folder_href, folder_of, human_size, name_in, object_href},
    error::AppError,
    forms::refusal_from_query,
    transfers::version_href,
    ui::{short_time, ErrorNotice},
    url::use_query,
};

/// What bulk actions did, key by key where something failed.
#[component]
fn ReportNotice(report: Signal<Option<(&'static str, Report)>>) -> impl IntoView {
    move || {
        report.get().map(|(verb, report)| {
            let failed = report.failed.clone();
            let class = if failed.is_empty() { "notice info" } else { "notice error" };
            view! {
                <div class=class role="status">
                    <p>{format!("{verb} {} object(s).", report.done)}
                        {(!failed.is_empty()).then(|| format!(" {} could not be:", failed.len()))}</p>
                    {(!failed.is_empty()).then(|| view! {
                        <ul class="failures">
                            {failed.into_iter().map(|(key, why)| view! { <li><code>{key}</code>" — "{why}</li> }).collect_view()}
                        </ul>
                    })}
                </div>
            }
        })
    }
}

/// A folder page's selection and what its actions last said. Created by the page, outside what
/// re-renders when the listing is fetched again (which every action ends with).
#[derive(Clone, Copy)]
pub struct FolderState {
    /// The chosen keys and folder prefixes of this page.
    pub selected: RwSignal<Vec<String>>,
    error: RwSignal<Option<AppError>>,
    report: RwSignal<Option<(&'static str, Report)>>,
    /// Deleting folders needs a count and a typed confirmation first.
    confirming: RwSignal<Option<(String, u64, bool)>>,
    typed: RwSignal<String>,
    renaming: RwSignal<bool>,
    new_name: RwSignal<String>,
}

impl FolderState {
    pub fn new() -> Self {
        FolderState {
            selected: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
            report: RwSignal::new(None),
            confirming: RwSignal::new(None),
            typed: RwSignal::new(String::new()),
            renaming: RwSignal::new(false),
            new_name: RwSignal::new(String::new()),
        }
    }

    /// Another folder: nothing chosen, nothing pending, nothing to report.
    pub fn reset(&self) {
        self.selected.set(Vec::new());
        self.error.set(None);
        self.report.set(None);
        self.confirming.set(None);
        self.renaming.set(false);
    }
}

impl Default for FolderState {
    fn default() -> Self {
        Self::new()
    }
}

/// The folder toolbar: new folder, rename the one chosen entry, delete the chosen ones.
#[component]
pub fn FolderActions(
    state: FolderState,
    connection: i64,
    bucket: String,
    prefix: String,
    #[prop(into)] changed: Callback<()>,
) -> impl IntoView {
    let FolderState {
        selected,
        error,
        report,
        confirming,
        typed,
        renaming,
        new_name,
    } = state;
    let place = StoredValue::new((bucket.clone(), prefix.clone()));
    let folders_of = move |chosen: &[String]| -> Vec<String> {
        chosen
            .iter()
            .filter(|k| k.ends_with('/'))
            .cloned()
            .collect()
    };
    let run_delete = Action::new(move |confirm: &String| {
        let (bucket, prefix) = place.get_value();
        let chosen = selected.get_untracked();
        let folders = folders_of(&chosen);
        let keys: Vec<String> = chosen.into_iter().filter(|k| !k.ends_with('/')).collect();
        let confirm = confirm.clone();
        async move { delete(connection, bucket, prefix, keys, folders, confirm).await }
    });
    Effect::new(move || {
        if let Some(result) = run_delete.value().get() {
            match result {
                Ok(done) => {
                    report.set(Some(("Deleted", done)));
                    error.set(None);
                    selected.set(Vec::new());
                    confirming.set(None);
                    typed.set(String::new());
                    changed.run(());
                }
                Err(err) => error.set(Some(err)),
            }
        }
    });
    let ask = Action::new(move |folders: &Vec<String>| {
        let (bucket, _) = place.get_value();
        let folders = folders.clone();
        async move {
            let mut keys = 0;
            let mut more = false;
            for folder in folders {
                let count = count_folder(connection, bucket.clone(), folder).await?;
                keys += count.keys;
                more |= count.more;
            }
            Ok::<_, AppError>((keys, more))
        }
    });
    Effect::new(move || {
        if let Some(result) = ask.value().get() {
            let (_, prefix) = place.get_value();
            match result {
                Ok((keys, more)) => confirming.set(Some((
                    super::confirmation_text(&prefix, &folders_of(&selected.get_untracked())),
                    keys,
                    more,
                ))),
                Err(err) => error.set(Some(err)),
            }
        }
    });
    let on_delete = move |_| {
        report.set(None);
        let folders = folders_of(&selected.get_untracked());
        if folders.is_empty() {
            run_delete.dispatch(String::new());
        } else {
            ask.dispatch(folders);
        }
    };
    let run_rename = Action::new(move |name: &String| {
        let (bucket, prefix) = place.get_value();
        let from = selected
            .get_untracked()
            .first()
            .cloned()
            .unwrap_or_default();
        let folder = from.ends_with('/');
        let to = format!("{prefix}{}{}", name.trim(), if folder { "/" } else { "" });
        async move {
            let report = copy(connection, bucket, from, to.clone(), true).await?;
            Ok::<_, AppError>((report, to))
        }
    });
    Effect::new(move || {
        if let Some(result) = run_rename.value().get() {
            match result {
                Ok((done, _)) => {
                    report.set(Some(("Moved", done)));
                    error.set(None);
                    renaming.set(false);
                    selected.set(Vec::new());
                    changed.run(());
                }
                Err(err) => error.set(Some(err)),
            }
        }
    });
    let count = move || selected.with(Vec::len);
    let (bucket_for_form, prefix_for_form) = (bucket.clone(), prefix.clone());
    // "Create folder" is a plain form: a refusal comes back as `?error=` with the typed name.
    let create_error = {
        let query = use_query();
        let marker = format!("arn:aws:s3:::{bucket}/{prefix}");
        refusal_from_query("s3:PutObject", move || {
            format!(
                "{marker}{}/",
                query.read().get("folder").unwrap_or_default()
            )
        })
    };
    view! {
        <ErrorNotice error=create_error/>
        <div class="toolbar" role="toolbar" aria-label="Folder actions">
            <form method="post" action="/api/folder_create" class="inline-form">
                <input type="hidden" name="connection" value=connection.to_string()/>
                <input type="hidden" name="bucket" value=bucket_for_form/>
                <input type="hidden" name="prefix" value=prefix_for_form/>
                <label for="new-folder" class="visually-hidden">"New folder name"</label>
                <input id="new-folder" name="name" type="text" required placeholder="New folder name" autocomplete="off" spellcheck="false"/>
                <button type="submit">"Create folder"</button>
            </form>
            <span class="muted">{move || match count() { 0 => String::new(), n => format!("{n} selected") }}</span>
            <button type="button" disabled=move || count() != 1 on:click=move |_| {
                let current = selected.get_untracked().first().cloned().unwrap_or_default();
                let (_, prefix) = place.get_value();
                new_name.set(name_in(&current, &prefix).trim_end_matches('/').to_owned());
                renaming.set(true);
            }>"Rename"</button>
            <button type="button" class="danger" disabled=move || count() == 0 on:click=on_delete>"Delete"</button>
        </div>
        <Show when=move || renaming.get()>
            <form class="inline-form card" on:submit=move |ev| { ev.prevent_default(); run_rename.dispatch(new_name.get_untracked()); }>
                <label for="rename-to">"New name"</label>
                <input id="rename-to" type="text" required prop:value=move || new_name.get()
                    on:input=move |ev| new_name.set(event_target_value(&ev))/>
                <button type="submit" class="primary" disabled=move || run_rename.pending().get()>"Rename"</button>
                <button type="button" on:click=move |_| renaming.set(false)>"Cancel"</button>
            </form>
        </Show>
        {move || confirming.get().map(|(expected, keys, more)| {
            let expected_text = expected.clone();
            view! {
                <form class="card confirm" on:submit=move |ev| { ev.prevent_default(); run_delete.dispatch(typed.get_untracked()); }>
                    <p><strong>{format!("This deletes {}{} object(s)", keys, if more { "+" } else { "" })}</strong>
                        " in the selected folder(s), and cannot be undone. Type "<code>{expected.clone()}</code>" to confirm."</p>
                    <label for="confirm-delete" class="visually-hidden">"Confirmation"</label>
                    <input id="confirm-delete" type="text" autocomplete="off" prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))/>
                    <button type="submit" class="danger" disabled=move || typed.get() != expected_text || run_delete.pending().get()>"Delete everything"</button>
                    <button type="button" on:click=move |_| confirming.set(None)>"Cancel"</button>
                </form>
            }
        })}
        <Show when=move || run_delete.pending().get() || run_rename.pending().get()>
            <p class="loading" role="status">"Working…"</p>
        </Show>
        <ErrorNotice error=Signal::derive(move || error.get())/>
        <ReportNotice report=Signal::derive(move || report.get())/>
    }
}

/// An object's actions: rename, copy or move to another key, delete.
#[component]
pub fn ObjectActions(connection: i64, bucket: String, key: String) -> impl IntoView {
    let error = RwSignal::new(None::<AppError>);
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
    let go = navigate.clone();
    Effect::new(move || {
        if let Some(result) = run_copy.value().get() {
            match result {
                Ok(to) => {
                    let (bucket, _) = place.get_value();
                    go(&object_href(connection, &bucket, &to), Default::default());
                }
                Err(err) => error.set(Some(err)),
            }
        }
    });
    Effect::new(move || {
        if let Some(result) = run_delete.value().get() {
            match result {
                Ok(()) => {
                    let (bucket, key) = place.get_value();
                    navigate(
                        &folder_href(connection, &bucket, folder_of(&key)),
                        Default::default(),
                    );
                }
                Err(err) => error.set(Some(err)),
            }
        }
    });
    view! {
        <section class="card object-actions" aria-label="Manage">
            <form class="inline-form" on:submit=move |ev| ev.prevent_default()>
                <label for="destination">"Key"</label>
                <input id="destination" type="text" spellcheck="false" prop:value=move || destination.get()
                    on:input=move |ev| destination.set(event_target_value(&ev))/>
                <button type="button" on:click=move |_| { run_copy.dispatch(true); }>"Rename / move"</button>
                <button type="button" on:click=move |_| { run_copy.dispatch(false); }>"Copy"</button>
            </form>
            <div class="inline-form">
                <Show when=move || confirm_delete.get() fallback=move || view! {
                    <button type="button" class="danger" on:click=move |_| confirm_delete.set(true)>"Delete"</button>
                }>
                    <span>"Delete this object? This cannot be undone."</span>
                    <button type="button" class="danger" on:click=move |_| { run_delete.dispatch(()); }>"Delete it"</button>
                    <button type="button" on:click=move |_| confirm_delete.set(false)>"Keep it"</button>
                </Show>
            </div>
            <ErrorNotice error=Signal::derive(move || error.get())/>
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
                            <thead><tr><th>"Version"</th><th>"Saved"</th><th>"Size"</th><th></th></tr></thead>
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
                                            <td>{v.last_modified.as_deref().map(short_time).unwrap_or_default()}</td>
                                            <td>{human_size(v.size)}</td>
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
