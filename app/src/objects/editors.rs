//! Editing what an object says about itself, on its details page: its tags, and its metadata
//! and storage class. Each editor opens on demand, checks nothing the server does not check
//! again, and says S3's refusal where it happened.

use leptos::prelude::*;

use super::{set_metadata, set_tags, Metadata, MAX_TAGS};
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
    let user = Rows::new(&meta.user);
    let fields: Vec<(&'static str, RwSignal<String>)> = meta
        .headers()
        .into_iter()
        .map(|(name, value)| (name, RwSignal::new(value.to_owned())))
        .collect();
    let class = RwSignal::new(meta.storage_class.clone());
    let place = StoredValue::new((bucket, key));
    let values = StoredValue::new(fields.clone());
    let save = Action::new(move |_: &()| {
        let (bucket, key) = place.get_value();
        let value = |n: usize| values.with_value(|f| f[n].1.get_untracked().trim().to_owned());
        let metadata = Metadata {
            content_type: value(0),
            cache_control: value(1),
            content_disposition: value(2),
            content_encoding: value(3),
            content_language: value(4),
            expires: value(5),
            user: user.pairs(),
            storage_class: class.get_untracked(),
        };
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
                <div class="fields">
                    {fields.into_iter().map(|(name, value)| view! {
                        <label>{name}" "<input type="text" spellcheck="false" prop:value=move || value.get()
                            on:input=move |ev| value.set(event_target_value(&ev))/></label>
                    }).collect_view()}
                    <label>"Storage class "
                        <select on:change=move |ev| class.set(event_target_value(&ev))>
                            {STORAGE_CLASSES.map(|c| view! { <option value=c selected=c == meta.storage_class>{c}</option> })}
                        </select>
                    </label>
                </div>
                <h3>"User metadata"</h3>
                <RowInputs rows=user what="metadata"/>
                <SaveBar save/>
            </form>
        </details>
    }
}
