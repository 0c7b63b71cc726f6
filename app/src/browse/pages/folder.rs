//! A folder of a bucket: its sub-folders and objects a page at a time, filter, sort, select,
//! upload, and keyboard navigation. Everything S3 returns is rendered as text, never as HTML.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;

use super::{
    details::*,
    nav::*,
    rows::{self, RowsInPage},
};
use crate::{
    browse::{list_objects, unchangeable, Listing, PAGE_SIZE, PAGE_SIZES},
    error::AppError,
    format::human_size,
    iam::{self, Reach},
    location::*,
    objects::{FolderActions, FolderState},
    search::{search_href, Search},
    shares::ShareForm,
    transfers::{Uploader, Uploads},
    ui::ErrorNotice,
    zip::ZipButton,
};

/// A folder of a bucket, or (with `?object=`) one object's details.
#[component]
pub fn BrowsePage() -> impl IntoView {
    let place = place();
    let showing_object = Memo::new(move |_| place.get().and_then(|p| p.object).is_some());
    view! {
        <Show when=move || showing_object.get() fallback=move || view! { <FolderView place=place/> }>
            <DetailsView place=place/>
        </Show>
    }
}

#[component]
fn FolderView(place: Memo<Option<Place>>) -> impl IntoView {
    // The rows travel once, in the table: see `rows`.
    let listing = Resource::<_, RowsInPage>::new_with_options(
        move || {
            place.get().map(|p| {
                (
                    p.connection,
                    p.bucket,
                    format!("{}{}", p.prefix, p.filter),
                    p.tokens.last().cloned(),
                    p.per,
                )
            })
        },
        |key| async move {
            match key {
                Some((connection, bucket, prefix, token, per)) => {
                    list_objects(connection, bucket, prefix, token, Some(per)).await
                }
                None => Err(AppError::NotFound),
            }
        },
        false,
    );
    let (pending, set_pending) = signal(false);
    let uploads = Uploads::new();
    // Owned here, not by the uploader or toolbar: both are rendered again after each refresh,
    // while an upload that outlives them still calls this when it ends.
    let refresh = Callback::new(move |_| listing.refetch());
    let actions = FolderState::new(refresh);
    // A selection belongs to one folder: moving elsewhere clears it.
    let folder = Memo::new(move |_| place.get().map(|p| p.folder()));
    Effect::new(move |_| {
        folder.track();
        actions.reset();
    });
    keyboard_navigation(place);
    view! {
        <Title text=move || place.get().map(|p| format!("{}/{}", p.bucket, p.prefix)).unwrap_or_default()/>
        <p class="loading" role="status" aria-live="polite">
            {move || pending.get().then_some("Loading…")}
        </p>
        <Transition
            fallback=|| view! { <p class="muted">"Loading the folder…"</p> }
            set_pending=set_pending
        >
            {move || Suspend::new(async move {
                let result = listing.await;
                let Some(place) = place.get_untracked() else {
                    return view! { <ErrorNotice error=Some(AppError::NotFound)/> }.into_any();
                };
                let connection_name = result.as_ref().map(|l| l.connection.clone()).unwrap_or_else(|_| "Connection".into());
                let root = result.as_ref().ok().and_then(|l| l.within.as_ref()).map(|w| w.prefix.clone());
                view! {
                    <Crumbs connection=place.connection connection_name=connection_name
                        bucket=place.bucket.clone() prefix=place.prefix.clone() root=root/>
                    <div class="page-head">
                        <h1>{breadcrumbs(&place.prefix).last().map(|(n, _)| n.clone()).unwrap_or_else(|| place.bucket.clone())}</h1>
                        <FilterBox place=place.clone()/>
                        <a class="button" href=search_href(place.connection, &place.bucket, &Search { within: place.prefix.clone(), ..Search::default() })>
                            {if place.prefix.is_empty() { "Search this bucket" } else { "Search in this folder" }}
                        </a>
                    </div>
                    {match result {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(page) => {
                            // A read-only connection or location offers no change: its actions
                            // are shown disabled, with the reason.
                            let locked = unchangeable(page.read_only, page.within.as_ref());
                            view! {
                                {page.within.clone().map(|within| view! { <LocationNote within/> }.into_any())}
                                {match locked {
                                    None => view! {
                                        <Uploader uploads=uploads connection=place.connection bucket=place.bucket.clone()
                                            prefix=place.prefix.clone() uploaded=refresh/>
                                        <FolderActions state=actions connection=place.connection bucket=place.bucket.clone()
                                            prefix=place.prefix.clone()/>
                                    }.into_any(),
                                    Some(why) => view! { <LockedActions why/> }.into_any(),
                                }}
                                <div class="zip-bar">
                                    <ZipButton connection=place.connection bucket=place.bucket.clone()
                                        folder=place.prefix.clone() selected=actions.selected.into()
                                        everything=actions.everything.into()/>
                                </div>
                                // A bucket's top folder is not shared: a link names a folder in it.
                                {(!place.prefix.is_empty()).then(|| view! {
                                    <details class="share-folder">
                                        <summary>"Share this folder"</summary>
                                        <ShareForm connection=place.connection bucket=place.bucket.clone() key=place.prefix.clone()/>
                                    </details>
                                })}
                                <Entries place=place.clone() listing=page state=actions/>
                            }.into_any()
                        }
                    }}
                }.into_any()
            })}
        </Transition>
    }
}

/// The folder's changes, not offered here: disabled, with the reason beside them (a disabled
/// button takes no focus, so the reason is text, not only a tooltip).
#[component]
fn LockedActions(why: &'static str) -> impl IntoView {
    view! {
        <div class="toolbar" role="toolbar" aria-label="Folder actions" aria-describedby="locked-why">
            {["Upload", "Create folder", "Rename", "Delete"].map(|label| view! {
                <button type="button" disabled title=why>{label}</button>
            })}
        </div>
        <p id="locked-why" class="notice info">{why}": you may browse and download here, not change anything."</p>
    }
}

/// Which location of a restricted (or shared) connection this folder is in, and its mode.
#[component]
fn LocationNote(within: Reach) -> impl IntoView {
    let mode = iam::mode(within.writable);
    view! {
        <p class="notice info location-note" role="status">
            "In location " <code>{within.uri()}</code> " (" {mode} {within.via.map(|_| ", shared with you")} ")."
        </p>
    }
}

/// "Filter by prefix": S3 itself lists only keys starting with the folder plus this text.
#[component]
fn FilterBox(place: Place) -> impl IntoView {
    // A prefix that cannot travel in the path travels in the query: keep it in the form.
    let hidden_prefix = place.folder().contains("?prefix=").then(|| {
        view! { <input type="hidden" name="prefix" value=place.prefix.clone()/> }
    });
    let path = place
        .folder()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    view! {
        <Form method="GET" action=path attr:class="filter" attr:role="search">
            {hidden_prefix}
            {(place.per != PAGE_SIZE).then(|| view! { <input type="hidden" name="per" value=place.per.to_string()/> })}
            <label for="filter" class="visually-hidden">"Filter by prefix"</label>
            <input id="filter" name="filter" type="search" placeholder="Filter by prefix…"
                autocomplete="off" spellcheck="false" value=place.filter.clone()/>
            <button type="submit">"Filter"</button>
            {(!place.filter.is_empty()).then(|| view! { <a href=place.folder()>"Clear"</a> })}
        </Form>
    }
}

/// A row's checkbox changed (one listener for the whole table): its entry joins or leaves the
/// selection.
fn pick(ev: leptos::ev::Event, state: FolderState) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(row) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|input| input.closest("tr[data-key]").ok().flatten())
        else {
            return;
        };
        let key = crate::url::decode(&row.get_attribute("data-key").unwrap_or_default());
        let on = event_target_checked(&ev);
        state.everything.set(false);
        state.selected.update(|s| {
            s.retain(|k| k != &key);
            if on {
                s.push(key);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, state);
}

/// Keeps the rows' checkboxes as the selection says (select all, a cleared selection, a page
/// drawn anew), for as long as this table is shown.
fn show_selection(state: FolderState) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::JsCast;
        let chosen: std::collections::HashSet<String> = state.selected.get().into_iter().collect();
        let Ok(rows) = document().query_selector_all("table.listing tbody tr[data-key]") else {
            return;
        };
        for row in (0..rows.length()).filter_map(|i| rows.item(i)) {
            let row: web_sys::Element = row.unchecked_into();
            let key = crate::url::decode(&row.get_attribute("data-key").unwrap_or_default());
            if let Some(input) = row
                .query_selector("td.pick input")
                .ok()
                .flatten()
                .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                input.set_checked(chosen.contains(&key));
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = state;
}

/// The header's checkbox: every entry of this page, or none.
#[component]
fn PickPage(keys: Vec<String>, state: FolderState) -> impl IntoView {
    let keys = StoredValue::new(keys);
    let selected = state.selected;
    let all = move || keys.with_value(|k| !k.is_empty() && selected.with(|s| s.len() == k.len()));
    view! {
        <th class="pick">
            <input type="checkbox" aria-label="Select every entry on this page" prop:checked=all
                on:change=move |ev| {
                    state.everything.set(false);
                    selected.set(match event_target_checked(&ev) {
                        true => keys.get_value(),
                        false => Vec::new(),
                    });
                }/>
        </th>
    }
}

/// Once a whole page is chosen and more pages follow: choose everything in the folder.
#[component]
fn PickEverything(on_page: usize, state: FolderState) -> impl IntoView {
    let (selected, everything) = (state.selected, state.everything);
    let whole_page = move || on_page > 0 && selected.with(Vec::len) == on_page;
    view! {
        <Show when=move || whole_page() || everything.get()>
            <p class="notice info select-everything" role="status">
                {move || match everything.get() {
                    true => view! {
                        "Everything in this folder is selected, on every page. "
                        <button type="button" class="link" on:click=move |_| everything.set(false)>"Only this page"</button>
                    }.into_any(),
                    false => view! {
                        {format!("All {on_page} entries on this page are selected. ")}
                        <button type="button" class="link" on:click=move |_| everything.set(true)>"Select everything in this folder"</button>
                    }.into_any(),
                }}
            </p>
        </Show>
    }
}

/// How many entries a page shows: links, so each size is a URL of its own.
#[component]
fn PageSizes(place: Place) -> impl IntoView {
    view! {
        <nav class="page-sizes" aria-label="Entries a page">
            <span class="muted">"Show"</span>
            {PAGE_SIZES.map(|per| {
                let current = (per == place.per).then_some("page");
                view! { <a href=place.href_per(None, per) aria-current=current>{per}</a> }
            })}
        </nav>
    }
}

#[component]
fn Entries(place: Place, listing: Listing, state: FolderState) -> impl IntoView {
    let Listing {
        folders,
        mut objects,
        next,
        ..
    } = listing;
    if folders.is_empty() && objects.is_empty() {
        let what = if place.filter.is_empty() {
            "This folder is empty."
        } else {
            "Nothing here starts with that."
        };
        return view! { <p class="muted empty-listing">{what}</p> }.into_any();
    }
    // Total orders (ties by key), so that the browser, which reads the rows back from this
    // table in its order, hydrates exactly these rows in exactly this order.
    match place.sort {
        Sort::Name => objects.sort_by(|a, b| a.key.cmp(&b.key)),
        Sort::Size => objects.sort_by(|a, b| (a.size, &a.key).cmp(&(b.size, &b.key))),
        Sort::Modified => {
            objects.sort_by(|a, b| (&a.last_modified, &a.key).cmp(&(&b.last_modified, &b.key)))
        }
    }
    let mut folders = folders;
    folders.sort();
    if place.descending {
        objects.reverse();
        if place.sort == Sort::Name {
            folders.reverse();
        }
    }
    let header = |label: &'static str, sort: Sort| {
        let active = place.sort == sort;
        let descending = active && !place.descending;
        let arrow = match (active, place.descending) {
            (false, _) => "",
            (true, false) => " ↑",
            (true, true) => " ↓",
        };
        let aria = match (active, place.descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        };
        view! {
            <th aria-sort=aria><a href=place.href(Some((sort, descending)))>{label}{arrow}</a></th>
        }
    };
    let keys: Vec<String> = folders
        .iter()
        .chain(objects.iter().map(|o| &o.key))
        .cloned()
        .collect();
    let on_page = keys.len();
    let total: u64 = objects.iter().map(|o| o.size.unsigned_abs()).sum();
    let summary = format!(
        "{} · {} · {} on this page",
        plural(folders.len(), "folder"),
        plural(objects.len(), "object"),
        human_size(total)
    );
    let more = next.is_some();
    let body = rows::html(&place, &folders, &objects);
    show_selection(state);
    let pager = |label: &'static str| {
        view! { <Pager base=place.href(None) tokens=place.tokens.clone() next=next.clone() label=label/> }
    };
    view! {
        <div class="listing-bar">
            <p id="listing-count" class="muted">{summary}</p>
            <PageSizes place=place.clone()/>
            {pager("Pages, top")}
        </div>
        {more.then(|| view! { <PickEverything on_page state/> })}
        <section class="card table-wrap listing-wrap">
            <table class="listing" aria-describedby="listing-count">
                <thead><tr>
                    <PickPage keys state/>
                    {header("Name", Sort::Name)}
                    {header("Size", Sort::Size)}
                    {header("Last modified", Sort::Modified)}
                    <th>"Storage class"</th>
                </tr></thead>
                <tbody inner_html=body on:change=move |ev| pick(ev, state)/>
            </table>
        </section>
        <p class="muted hint">"↑ ↓ to move, Enter to open, Backspace to go up"</p>
        {pager("Pages, bottom")}
    }
    .into_any()
}

/// `3 objects`, `1 folder`.
fn plural(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}
