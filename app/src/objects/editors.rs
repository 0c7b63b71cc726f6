//! Editing what an object says about itself, on its details page: its tags, and its metadata
//! and storage class; and the same metadata on every object of a selection. Each editor opens on demand, checks nothing the server does not check
//! again, and says S3's refusal where it happened.

use leptos::prelude::*;

use super::{patch_metadata, set_metadata, set_tags, Metadata, Report, MAX_TAGS};
use crate::{error::AppError, search::STORAGE_CLASSES, ui::ErrorNotice};

/// A row: its id (for the list's keys), its name and its value.
type Row = (usize, RwSignal<String>, RwSignal<String>);

/// Name/value rows that keep their own signals, so typing in one re-renders nothing else.
#[derive(Clone, Copy)]
struct Rows {
    rows: RwSignal<Vec<Row>>,
    next: StoredValue<usize>,
}

impl Rows {
    fn new(pairs: &[(String, String)]) -> Rows {
        let rows = Rows {
            rows: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
        };
        for (name, value) in pairs {
            rows.add(name, value);
        }
        rows
    }

    fn add(&self, name: &str, value: &str) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        let row = (
            id,
            RwSignal::new(name.to_owned()),
            RwSignal::new(value.to_owned()),
        );
        self.rows.update(|rows| rows.push(row));
    }

    fn remove(&self, id: usize) {
        self.rows.update(|rows| rows.retain(|(i, _, _)| *i != id));
    }

    /// The rows with a name, in order, names trimmed.
    fn pairs(&self) -> Vec<(String, String)> {
        self.rows
            .get_untracked()
            .iter()
            .map(|(_, name, value)| {
                (
                    name.get_untracked().trim().to_owned(),
                    value.get_untracked(),
                )
            })
            .filter(|(name, _)| !name.is_empty())
            .collect()
    }
}

/// The rows as inputs, each with Remove, and "Add" below.
#[component]
fn RowInputs(
    rows: Rows,
    what: &'static str,
    #[prop(optional)] most: Option<usize>,
) -> impl IntoView {
    view! {
        <table class="details pairs-editor">
            <thead><tr><th scope="col">"Name"</th><th scope="col">"Value"</th><th></th></tr></thead>
            <tbody>
                <For each=move || rows.rows.get() key=|(id, _, _)| *id let:row>
                    {
                        let (id, name, value) = row;
                        view! {
                            <tr>
                                <td><input type="text" spellcheck="false" aria-label=format!("{what} name")
                                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/></td>
                                <td><input type="text" spellcheck="false" aria-label=format!("{what} value")
                                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/></td>
                                <td><button type="button" class="link" on:click=move |_| rows.remove(id)>"Remove"</button></td>
                            </tr>
                        }
                    }
                </For>
            </tbody>
        </table>
        <button type="button" disabled=move || most.is_some_and(|m| rows.rows.read().len() >= m)
            on:click=move |_| rows.add("", "")>{format!("Add {what}")}</button>
    }
}

/// Save and its outcome, shared by both editors.
#[component]
fn SaveBar(save: Action<(), Result<(), AppError>>) -> impl IntoView {
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    view! {
        <p class="inline-form">
            <button type="submit" class="primary" disabled=move || save.pending().get()>"Save"</button>
            <Show when=move || save.pending().get()><span class="loading" role="status">"Saving…"</span></Show>
        </p>
        <ErrorNotice error=error/>
    }
}

/// The object's tags, replaced as a set.
#[component]
pub fn TagsEditor(
    connection: i64,
    bucket: String,
    key: String,
    tags: Vec<(String, String)>,
    saved: Callback<()>,
) -> impl IntoView {
    let rows = Rows::new(&tags);
    let place = StoredValue::new((bucket, key));
    let save = Action::new(move |_: &()| {
        let (bucket, key) = place.get_value();
        let tags = rows.pairs();
        async move { set_tags(connection, bucket, key, tags).await }
    });
    Effect::new(move || {
        if let Some(Ok(())) = save.value().get() {
            saved.run(());
        }
    });
    view! {
        <details class="editor">
            <summary>"Edit tags"</summary>
            <form on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
                <p class="muted">{format!("At most {MAX_TAGS} tags; names up to 128 characters, values up to 256.")}</p>
                <RowInputs rows what="tag" most=MAX_TAGS/>
                <SaveBar save/>
            </form>
        </details>
    }
}

/// The object's headers, user metadata and storage class, replaced by copying it onto itself.
#[component]
pub fn MetadataEditor(
    connection: i64,
    bucket: String,
    key: String,
    meta: Metadata,
    saved: Callback<()>,
) -> impl IntoView {
    let form = MetadataForm::of(&meta);
    let place = StoredValue::new((bucket, key));
    let save = Action::new(move |_: &()| {
        let (bucket, key) = place.get_value();
        let metadata = form.metadata();
        async move { set_metadata(connection, bucket, key, metadata).await }
    });
    Effect::new(move || {
        if let Some(Ok(())) = save.value().get() {
            saved.run(());
        }
    });
    view! {
        <details class="editor">
            <summary>"Edit metadata"</summary>
            <form on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
                <p class="muted">"Saved by copying the object onto itself: its bytes and tags stay; a versioned bucket keeps the old version."</p>
                <MetadataFields form current=meta.storage_class.clone()/>
                <SaveBar save/>
            </form>
        </details>
    }
}

/// Objects a bulk edit changes at once.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const AT_ONCE: usize = 4;

/// The same metadata set on every chosen object: the fields filled in are set, the others stay
/// as each object has them; user metadata is added or replaced by name. Object by object (each
/// its own assumption and audit entry), four at a time, with what failed listed.
#[component]
pub fn SelectionMetadataEditor(
    connection: i64,
    bucket: String,
    keys: Signal<Vec<String>>,
) -> impl IntoView {
    let form = MetadataForm::of(&Metadata::default());
    let bucket = StoredValue::new(bucket);
    let progress = RwSignal::new(None::<(usize, usize)>);
    let report = RwSignal::new(None::<Report>);
    let empty = RwSignal::new(false);
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let patch = form.metadata();
        empty.set(patch == Metadata::default());
        if empty.get_untracked() {
            return;
        }
        let keys = keys.get_untracked();
        report.set(None);
        progress.set(Some((0, keys.len())));
        leptos::task::spawn_local(async move {
            use futures::StreamExt;
            let mut done = Report::default();
            let mut each = futures::stream::iter(keys)
                .map(|key| {
                    let (bucket, patch) = (bucket.get_value(), patch.clone());
                    async move {
                        let result = patch_metadata(connection, bucket, key.clone(), patch).await;
                        (key, result)
                    }
                })
                .buffer_unordered(AT_ONCE);
            while let Some((key, result)) = each.next().await {
                match result {
                    Ok(()) => done.done += 1,
                    Err(err) => done.failed.push((key, err.to_string())),
                }
                progress.try_update(|p| {
                    if let Some((finished, _)) = p {
                        *finished += 1;
                    }
                });
            }
            done.failed.sort();
            progress.try_set(None);
            report.try_set(Some(done));
        });
    };
    let count = move || keys.with(Vec::len);
    view! {
        <details class="editor bulk-editor">
            <summary>{move || format!("Set metadata on the {} chosen object(s)", count())}</summary>
            <form on:submit=apply>
                <p class="muted">"The fields you fill in are set on each selected object; empty ones stay as each object has them, and so do its bytes and tags. User metadata is added, or replaced under the same name."</p>
                <MetadataFields form current=String::new()/>
                <p class="inline-form">
                    <button type="submit" class="primary" disabled=move || progress.get().is_some() || count() == 0>"Apply to the selection"</button>
                    {move || progress.get().map(|(finished, all)| view! { <span class="loading" role="status">{format!("{finished} of {all} done…")}</span> })}
                </p>
                <Show when=move || empty.get()><p class="notice error" role="alert">"Fill in at least one field to set."</p></Show>
            </form>
            <ReportNotice report=Signal::derive(move || report.get().map(|r| ("Updated", r)))/>
        </details>
    }
}

/// The metadata inputs' signals.
#[derive(Clone, Copy)]
struct MetadataForm {
    headers: StoredValue<Vec<(&'static str, RwSignal<String>)>>,
    class: RwSignal<String>,
    user: Rows,
}

impl MetadataForm {
    fn of(meta: &Metadata) -> MetadataForm {
        let headers = meta
            .headers()
            .into_iter()
            .map(|(name, value)| (name, RwSignal::new(value.to_owned())))
            .collect();
        MetadataForm {
            headers: StoredValue::new(headers),
            class: RwSignal::new(meta.storage_class.clone()),
            user: Rows::new(&meta.user),
        }
    }

    /// What the form says, values trimmed.
    fn metadata(&self) -> Metadata {
        let value = |n: usize| {
            self.headers
                .with_value(|f| f[n].1.get_untracked().trim().to_owned())
        };
        Metadata {
            content_type: value(0),
            cache_control: value(1),
            content_disposition: value(2),
            content_encoding: value(3),
            content_language: value(4),
            expires: value(5),
            user: self.user.pairs(),
            storage_class: self.class.get_untracked(),
        }
    }
}

/// The headers, the storage class (`current` chosen; none: "unchanged") and user metadata.
#[component]
fn MetadataFields(form: MetadataForm, current: String) -> impl IntoView {
    let class = form.class;
    let unchanged = current.is_empty();
    view! {
        <div class="fields">
            {form.headers.get_value().into_iter().map(|(name, value)| view! {
                <label>{name}" "<input type="text" spellcheck="false" prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))/></label>
            }).collect_view()}
            <label>"Storage class "
                <select on:change=move |ev| class.set(event_target_value(&ev))>
                    {unchanged.then(|| view! { <option value="" selected=true>"(unchanged)"</option> })}
                    {STORAGE_CLASSES.map(|c| view! { <option value=c selected=c == current>{c}</option> })}
                </select>
            </label>
        </div>
        <h3>"User metadata"</h3>
        <RowInputs rows=form.user what="metadata"/>
    }
}

/// What bulk actions did, key by key where something failed.
#[component]
pub(super) fn ReportNotice(report: Signal<Option<(&'static str, Report)>>) -> impl IntoView {
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
