//! A folder's toolbar: create a folder (a plain form), rename the one chosen entry, delete the
//! chosen ones (folders after a count and a typed confirmation). Each form is its own component;
//! what they last said is derived from their actions, which live in [`FolderState`].

use leptos::{prelude::*, server_fn::ServerFn};

use super::{
    copy, count_folder, delete,
    editors::{ReportNotice, SelectionMetadataEditor},
    CreateFolder, Report,
};
use crate::{
    error::AppError, forms::refusal_from_query, iam, location::name_in, ui::ErrorNotice,
    url::use_query,
};

/// Where the toolbar acts: carried in each action's input, so the actions can outlive a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Here {
    pub connection: i64,
    pub bucket: String,
    pub prefix: String,
}

type Outcome<T> = Option<Result<T, AppError>>;
/// Deletes the chosen keys and folders (in that order); the `String` is the typed confirmation.
type Remove = Action<(Here, Chosen, String), Result<Report, AppError>>;
/// Keys and folders.
type Chosen = (Vec<String>, Vec<String>);
/// Counts the keys under the chosen folders: how many, and whether there are more.
type Count = Action<(Here, Vec<String>), Result<(u64, bool), AppError>>;
/// Moves the one chosen entry (`from`) to a new name in the same folder.
type Rename = Action<(Here, String, String), Result<Report, AppError>>;

/// A folder page's selection and its actions. Created once by the page, outside what renders
/// again when the listing is fetched again (which every action ends with), so what an action
/// said stays on screen and its follow-up (refresh, clear the selection) runs once.
#[derive(Clone, Copy)]
pub struct FolderState {
    /// The chosen keys and folder prefixes of this page.
    pub selected: RwSignal<Vec<String>>,
    /// Everything in the folder is chosen, on every page: the actions take the folder itself.
    pub everything: RwSignal<bool>,
    /// Deletes the selection (no confirmation needed when no folder is chosen).
    remove: Remove,
    /// Counts the keys under the chosen folders, before asking for a confirmation.
    count: Count,
    rename: Rename,
    typed: RwSignal<String>,
    renaming: RwSignal<bool>,
    new_name: RwSignal<String>,
}

impl FolderState {
    /// `refresh` fetches the listing again after something changed in it.
    pub fn new(refresh: Callback<()>) -> Self {
        let state = FolderState {
            selected: RwSignal::new(Vec::new()),
            everything: RwSignal::new(false),
            remove: Action::new(|(here, chosen, confirm): &(Here, Chosen, String)| {
                let Here {
                    connection,
                    bucket,
                    prefix,
                } = here.clone();
                let (keys, folders) = chosen.clone();
                let confirm = confirm.clone();
                async move { delete(connection, bucket, prefix, keys, folders, confirm).await }
            }),
            count: Action::new(|(here, folders): &(Here, Vec<String>)| {
                let (here, folders) = (here.clone(), folders.clone());
                async move {
                    let (mut keys, mut more) = (0, false);
                    for folder in folders {
                        let count =
                            count_folder(here.connection, here.bucket.clone(), folder).await?;
                        keys += count.keys;
                        more |= count.more;
                    }
                    Ok((keys, more))
                }
            }),
            rename: Action::new(|(here, from, name): &(Here, String, String)| {
                let Here {
                    connection,
                    bucket,
                    prefix,
                } = here.clone();
                let slash = if from.ends_with('/') { "/" } else { "" };
                let to = format!("{prefix}{}{slash}", name.trim());
                let from = from.clone();
                async move { copy(connection, bucket, from, to, true).await }
            }),
            typed: RwSignal::new(String::new()),
            renaming: RwSignal::new(false),
            new_name: RwSignal::new(String::new()),
        };
        // What changed the listing: fetch it again, with nothing chosen any more.
        Effect::new(move || {
            if let Some(Ok(_)) = state.remove.value().get() {
                state.selected.set(Vec::new());
                state.everything.set(false);
                state.count.value().set(None);
                state.typed.set(String::new());
                refresh.run(());
            }
        });
        Effect::new(move || {
            if let Some(Ok(_)) = state.rename.value().get() {
                state.selected.set(Vec::new());
                state.renaming.set(false);
                refresh.run(());
            }
        });
        state
    }

    /// Another folder: nothing chosen, nothing pending, nothing to report.
    pub fn reset(&self) {
        self.selected.set(Vec::new());
        self.everything.set(false);
        self.forget();
        self.renaming.set(false);
    }

    /// Clears what the last action said, before another one starts.
    fn forget(&self) {
        self.remove.value().set(None);
        self.count.value().set(None);
        self.rename.value().set(None);
    }

    /// The chosen keys and folders; everything in the folder is the folder `here` itself.
    fn chosen(&self, here: &Here) -> Chosen {
        match self.everything.get_untracked() {
            true => (Vec::new(), vec![here.prefix.clone()]),
            false => {
                let (folders, keys) = self
                    .selected
                    .get_untracked()
                    .into_iter()
                    .partition(|k| k.ends_with('/'));
                (keys, folders)
            }
        }
    }

    /// The last failure of any of the toolbar's actions.
    fn error(&self) -> Signal<Option<AppError>> {
        let (remove, count, rename) = (self.remove, self.count, self.rename);
        Signal::derive(move || {
            let failed = |outcome: Outcome<()>| outcome.and_then(Result::err);
            failed(remove.value().get().map(|r| r.map(drop)))
                .or_else(|| failed(count.value().get().map(|r| r.map(drop))))
                .or_else(|| failed(rename.value().get().map(|r| r.map(drop))))
        })
    }

    /// What the last delete or rename did.
    fn report(&self) -> Signal<Option<(&'static str, Report)>> {
        let (remove, rename) = (self.remove, self.rename);
        Signal::derive(move || {
            let done = |verb, outcome: Outcome<Report>| Some((verb, outcome?.ok()?));
            done("Deleted", remove.value().get()).or_else(|| done("Moved", rename.value().get()))
        })
    }

    fn working(&self) -> bool {
        self.remove.pending().get() || self.rename.pending().get()
    }
}

/// The folder toolbar: new folder, rename the one chosen entry, delete the chosen ones.
#[component]
pub fn FolderActions(
    state: FolderState,
    connection: i64,
    bucket: String,
    prefix: String,
) -> impl IntoView {
    let here = StoredValue::new(Here {
        connection,
        bucket: bucket.clone(),
        prefix: prefix.clone(),
    });
    let selected = state.selected;
    let everything = state.everything;
    let count = move || selected.with(Vec::len);
    // The chosen objects (a bulk metadata edit leaves folders out).
    let chosen_keys = Signal::derive(move || {
        selected.with(|s| s.iter().filter(|k| !k.ends_with('/')).cloned().collect())
    });
    let on_delete = move |_| {
        state.forget();
        let chosen = state.chosen(&here.get_value());
        match chosen.1.is_empty() {
            true => state
                .remove
                .dispatch((here.get_value(), chosen, String::new())),
            false => state.count.dispatch((here.get_value(), chosen.1)),
        };
    };
    let on_rename = move |_| {
        let current = selected
            .get_untracked()
            .first()
            .cloned()
            .unwrap_or_default();
        let name = name_in(&current, &here.get_value().prefix)
            .trim_end_matches('/')
            .to_owned();
        state.new_name.set(name);
        state.renaming.set(true);
    };
    view! {
        <div class="toolbar" role="toolbar" aria-label="Folder actions">
            <CreateFolderForm connection bucket prefix/>
            <span class="muted" role="status">{move || match (everything.get(), count()) {
                (true, _) => "Everything in this folder selected".to_owned(),
                (false, 0) => String::new(),
                (false, n) => format!("{n} selected"),
            }}</span>
            <button type="button" disabled=move || count() != 1 || everything.get() on:click=on_rename
                title=move || (count() != 1).then_some("Select one entry to rename it")>"Rename"</button>
            <button type="button" class="danger" disabled=move || count() == 0 && !everything.get() on:click=on_delete
                title=move || (count() == 0 && !everything.get()).then_some("Select what to delete first")>"Delete"</button>
        </div>
        <RenameForm state here/>
        <DeleteConfirmation state here/>
        <Show when=move || state.working()>
            <p class="loading" role="status">"Working…"</p>
        </Show>
        <ErrorNotice error=state.error()/>
        <ReportNotice report=state.report()/>
        <Show when=move || !everything.get() && selected.with(|s| s.iter().any(|k| !k.ends_with('/')))>
            <SelectionMetadataEditor connection bucket=here.get_value().bucket keys=chosen_keys/>
        </Show>
    }
}

/// "Create folder" is a plain form: it works before hydration, and a refusal comes back as
/// `?error=` with the typed name.
#[component]
fn CreateFolderForm(connection: i64, bucket: String, prefix: String) -> impl IntoView {
    let query = use_query();
    let marker = format!("arn:aws:s3:::{bucket}/{prefix}");
    let error = refusal_from_query(iam::Action::PutObject, move || {
        format!(
            "{marker}{}/",
            query.read().get("folder").unwrap_or_default()
        )
    });
    view! {
        <ErrorNotice error/>
        <form method="post" action=CreateFolder::PATH class="inline-form">
            <input type="hidden" name="connection" value=connection.to_string()/>
            <input type="hidden" name="bucket" value=bucket/>
            <input type="hidden" name="prefix" value=prefix/>
            <label for="new-folder" class="visually-hidden">"New folder name"</label>
            <input id="new-folder" name="name" type="text" required placeholder="New folder name" autocomplete="off" spellcheck="false"/>
            <button type="submit">"Create folder"</button>
        </form>
    }
}

/// The new name for the one chosen entry.
#[component]
fn RenameForm(state: FolderState, here: StoredValue<Here>) -> impl IntoView {
    let FolderState {
        selected,
        rename,
        renaming,
        new_name,
        ..
    } = state;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        state.forget();
        let from = selected
            .get_untracked()
            .first()
            .cloned()
            .unwrap_or_default();
        rename.dispatch((here.get_value(), from, new_name.get_untracked()));
    };
    view! {
        <Show when=move || renaming.get()>
            <form class="inline-form card" on:submit=submit>
                <label for="rename-to">"New name"</label>
                <input id="rename-to" type="text" required prop:value=move || new_name.get()
                    on:input=move |ev| new_name.set(event_target_value(&ev))/>
                <button type="submit" class="primary" disabled=move || rename.pending().get()>"Rename"</button>
                <button type="button" on:click=move |_| renaming.set(false)>"Cancel"</button>
            </form>
        </Show>
    }
}

/// Deleting folders: how many objects go, and the folder's name typed to confirm.
#[component]
fn DeleteConfirmation(state: FolderState, here: StoredValue<Here>) -> impl IntoView {
    let FolderState {
        remove,
        count,
        typed,
        ..
    } = state;
    let counted = move || count.value().get().and_then(Result::ok);
    move || {
        counted().map(|(keys, more)| {
            let chosen = state.chosen(&here.get_value());
            let expected = super::confirmation_text(&here.get_value().prefix, &chosen.1);
            let expected_text = expected.clone();
            let submit = move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                remove.dispatch((here.get_value(), state.chosen(&here.get_value()), typed.get_untracked()));
            };
            view! {
                <form class="card confirm" on:submit=submit>
                    <p><strong>{format!("This deletes {}{} object(s)", keys, if more { "+" } else { "" })}</strong>
                        " in the selected folder(s), and cannot be undone. Type "<code>{expected}</code>" to confirm."</p>
                    <label for="confirm-delete" class="visually-hidden">"Confirmation"</label>
                    <input id="confirm-delete" type="text" autocomplete="off" prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))/>
                    <button type="submit" class="danger" disabled=move || typed.get() != expected_text || remove.pending().get()>"Delete everything"</button>
                    <button type="button" on:click=move |_| count.value().set(None)>"Cancel"</button>
                </form>
            }
        })
    }
}
