//! The browsing pages: a connection's buckets, and a bucket's folders with object details.
//! Everything S3 returns is rendered as text, never as HTML.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_params_map};

use super::{
    describe_object, list_buckets, list_objects, location::*, Bucket, Listing, ObjectDetails,
};
use crate::{
    error::AppError,
    forms::refusal_from_query,
    objects::{FolderActions, FolderState, ObjectActions, Versions},
    shares::ShareForm,
    transfers::{download_href, preview_kind, Preview, Uploader, Uploads},
    ui::{short_time, CopyButton, ErrorNotice},
    url::{use_query, use_raw_path},
};

/// The cursor stack: the ContinuationTokens that led to the current page, in the URL as
/// repeated `t=` values, so every page has its own shareable URL and Previous drops the last.
fn tokens() -> Memo<Vec<String>> {
    let query = use_query();
    Memo::new(move |_| query.read().get_all("t"))
}

fn connection_id() -> Memo<Option<i64>> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("conn").and_then(|c| c.parse().ok()))
}

/// `href` plus the given cursor stack.
fn with_tokens(href: String, tokens: &[String]) -> String {
    tokens
        .iter()
        .fold(href, |href, t| with_query(&href, "t", t))
}

/// Previous and Next links for a cursor stack; `next` is the token of the following page.
#[component]
fn Pager(base: String, tokens: Vec<String>, next: Option<String>) -> impl IntoView {
    let page = tokens.len() + 1;
    let previous =
        (!tokens.is_empty()).then(|| with_tokens(base.clone(), &tokens[..tokens.len() - 1]));
    let next = next.map(|next| {
        let mut stack = tokens.clone();
        stack.push(next);
        with_tokens(base.clone(), &stack)
    });
    (previous.is_some() || next.is_some()).then(|| {
        view! {
            <nav class="pager" aria-label="Pages">
                {match previous {
                    Some(href) => view! { <a class="button" rel="prev" href=href>"← Previous"</a> }.into_any(),
                    None => view! { <span class="button disabled">"← Previous"</span> }.into_any(),
                }}
                <span class="muted">{format!("Page {page}")}</span>
                {match next {
                    Some(href) => view! { <a class="button" rel="next" href=href>"Next →"</a> }.into_any(),
                    None => view! { <span class="button disabled">"Next →"</span> }.into_any(),
                }}
            </nav>
        }
    })
}

#[component]
fn Crumbs(
    connection: i64,
    connection_name: String,
    #[prop(optional, into)] bucket: Option<String>,
    #[prop(optional, into)] prefix: String,
) -> impl IntoView {
    let trail = bucket.map(|bucket| {
        let folders = breadcrumbs(&prefix)
            .into_iter()
            .map(|(name, folder)| {
                let href = folder_href(connection, &bucket, &folder);
                view! { <li><a href=href>{name}</a></li> }
            })
            .collect_view();
        view! {
            <li><a href=folder_href(connection, &bucket, "")>{bucket.clone()}</a></li>
            {folders}
        }
    });
    view! {
        <nav class="crumbs" aria-label="Location">
            <ol>
                <li><a href="/">"Connections"</a></li>
                <li><a href=buckets_href(connection)>{connection_name}</a></li>
                {trail}
            </ol>
        </nav>
    }
}

/// A connection's buckets: ListBuckets one page at a time, plus buckets added by name.
#[component]
pub fn BucketsPage() -> impl IntoView {
    let connection = connection_id();
    let tokens = tokens();
    let query = use_query();
    let typed_name = move || query.read().get("name").unwrap_or_default().to_owned();
    let page = Resource::new(
        move || (connection.get(), tokens.get().last().cloned()),
        |(connection, token)| async move {
            match connection {
                Some(id) => list_buckets(id, token).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    // The add form is a plain post: its refusal comes back as `?error=` with the typed name,
    // from which the page rebuilds the permission that was missing.
    let add_error = refusal_from_query("s3:ListBucket", move || {
        format!("arn:aws:s3:::{}", typed_name())
    });
    view! {
        <Title text="Buckets"/>
        <Transition fallback=|| view! { <p class="muted">"Loading buckets…"</p> }>
            {move || Suspend::new(async move {
                let Some(id) = connection.get() else {
                    return view! { <ErrorNotice error=Some(AppError::NotFound)/> }.into_any();
                };
                match page.await {
                    Err(err) => view! {
                        <Crumbs connection=id connection_name="Connection".to_owned()/>
                        <ErrorNotice error=Some(err)/>
                    }.into_any(),
                    Ok(page) => view! {
                        <Crumbs connection=id connection_name=page.connection.clone()/>
                        <h1>"Buckets"</h1>
                        {page.list_denied.then(|| view! {
                            <p class="notice info" role="status">
                                "This role may not list the account's buckets (it lacks s3:ListAllMyBuckets, "
                                "which is common for narrow roles). Add the buckets it may use by name below."
                            </p>
                        })}
                        {(!page.list_denied).then(|| view! {
                            <BucketTable connection=id buckets=page.buckets.clone() removable=false/>
                            <Pager base=buckets_href(id) tokens=tokens.get_untracked() next=page.next.clone()/>
                        })}
                        <h2>"Added by name"</h2>
                        {if page.added.is_empty() {
                            view! { <p class="muted">"None yet."</p> }.into_any()
                        } else {
                            view! { <BucketTable connection=id buckets=page.added.clone() removable=true/> }.into_any()
                        }}
                        <section class="card narrow">
                            <ErrorNotice error=add_error/>
                            <form method="post" action="/api/bucket_add" class="inline-form">
                                <input type="hidden" name="connection" value=id.to_string()/>
                                <label for="bucket-name">"Add a bucket by name"</label>
                                <input id="bucket-name" name="name" type="text" maxlength="63" required
                                    autocomplete="off" spellcheck="false" placeholder="my-bucket" value=typed_name/>
                                <button type="submit" class="primary">"Add bucket"</button>
                            </form>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn BucketTable(connection: i64, buckets: Vec<Bucket>, removable: bool) -> impl IntoView {
    if buckets.is_empty() {
        return view! { <p class="muted">"No buckets in this account."</p> }.into_any();
    }
    view! {
        <section class="card table-wrap">
            <table class="listing">
                <thead><tr><th>"Name"</th><th>"Region"</th><th>"Created"</th>{removable.then(|| view! { <th></th> })}</tr></thead>
                <tbody>
                    {buckets.into_iter().map(|b| view! {
                        <tr>
                            <td><a class="entry bucket" rel="external" href=folder_href(connection, &b.name, "")>{b.name.clone()}</a></td>
                            <td>{b.region.clone().unwrap_or_else(|| "—".into())}</td>
                            <td>{b.created.as_deref().map(short_time).unwrap_or_else(|| "—".into())}</td>
                            {removable.then(|| view! {
                                <td>
                                    <form method="post" action="/api/bucket_remove">
                                        <input type="hidden" name="connection" value=connection.to_string()/>
                                        <input type="hidden" name="name" value=b.name.clone()/>
                                        <button type="submit" class="link">"Remove"</button>
                                    </form>
                                </td>
                            })}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    Name,
    Size,
    Modified,
}

impl Sort {
    fn parse(s: Option<&str>) -> Self {
        match s {
            Some("size") => Sort::Size,
            Some("modified") => Sort::Modified,
            _ => Sort::Name,
        }
    }

    fn param(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::Size => "size",
            Sort::Modified => "modified",
        }
    }
}

/// Where the page is: everything in its URL.
#[derive(Clone, PartialEq)]
struct Place {
    connection: i64,
    bucket: String,
    prefix: String,
    filter: String,
    sort: Sort,
    descending: bool,
    tokens: Vec<String>,
    object: Option<String>,
}

impl Place {
    fn folder(&self) -> String {
        folder_href(self.connection, &self.bucket, &self.prefix)
    }

    /// This folder with the same filter (and sort, unless `sort` is given), on its first page.
    fn href(&self, sort: Option<(Sort, bool)>) -> String {
        let (sort, descending) = sort.unwrap_or((self.sort, self.descending));
        let mut href = self.folder();
        if !self.filter.is_empty() {
            href = with_query(&href, "filter", &self.filter);
        }
        if sort != Sort::Name {
            href = with_query(&href, "sort", sort.param());
        }
        if descending {
            href = with_query(&href, "order", "desc");
        }
        href
    }

    // Used by the keyboard handler, which exists in the browser build only.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn parent(&self) -> String {
        match self.prefix.is_empty() {
            true => buckets_href(self.connection),
            false => folder_href(self.connection, &self.bucket, folder_of(&self.prefix)),
        }
    }
}

fn place() -> Memo<Option<Place>> {
    let path = use_raw_path();
    let query = use_query();
    Memo::new(move |_| {
        let query = query.read();
        let (connection, bucket, prefix) = place_from(&path.read(), query.get("prefix"))?;
        Some(Place {
            connection,
            bucket,
            prefix,
            filter: query.get("filter").unwrap_or_default().to_owned(),
            sort: Sort::parse(query.get("sort")),
            descending: query.get("order") == Some("desc"),
            tokens: query.get_all("t"),
            object: query
                .get("object")
                .filter(|k| !k.is_empty())
                .map(str::to_owned),
        })
    })
}

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
    let listing = Resource::new(
        move || {
            place.get().map(|p| {
                (
                    p.connection,
                    p.bucket,
                    format!("{}{}", p.prefix, p.filter),
                    p.tokens.last().cloned(),
                )
            })
        },
        |key| async move {
            match key {
                Some((connection, bucket, prefix, token)) => {
                    list_objects(connection, bucket, prefix, token).await
                }
                None => Err(AppError::NotFound),
            }
        },
    );
    let (pending, set_pending) = signal(false);
    let uploads = Uploads::new();
    let actions = FolderState::new();
    // Owned here, not by the uploader or toolbar: both are rendered again after each refresh,
    // while an upload that outlives them still calls this when it ends.
    let refresh = Callback::new(move |_| listing.refetch());
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
                view! {
                    <Crumbs connection=place.connection connection_name=connection_name
                        bucket=place.bucket.clone() prefix=place.prefix.clone()/>
                    <div class="page-head">
                        <h1>{breadcrumbs(&place.prefix).last().map(|(n, _)| n.clone()).unwrap_or_else(|| place.bucket.clone())}</h1>
                        <FilterBox place=place.clone()/>
                    </div>
                    {match result {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(page) => view! {
                            <Uploader uploads=uploads connection=place.connection bucket=place.bucket.clone()
                                prefix=place.prefix.clone() uploaded=refresh/>
                            <FolderActions state=actions connection=place.connection bucket=place.bucket.clone()
                                prefix=place.prefix.clone() changed=refresh/>
                            <Entries place=place.clone() listing=page selected=actions.selected/>
                        }.into_any(),
                    }}
                }.into_any()
            })}
        </Transition>
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
            <label for="filter" class="visually-hidden">"Filter by prefix"</label>
            <input id="filter" name="filter" type="search" placeholder="Filter by prefix…"
                autocomplete="off" spellcheck="false" value=place.filter.clone()/>
            <button type="submit">"Filter"</button>
            {(!place.filter.is_empty()).then(|| view! { <a href=place.folder()>"Clear"</a> })}
        </Form>
    }
}

/// A checkbox that adds `key` (an object's key or a folder's prefix) to the selection.
#[component]
fn Pick(key: String, name: String, selected: RwSignal<Vec<String>>) -> impl IntoView {
    let checked = {
        let key = key.clone();
        move || selected.with(|s| s.contains(&key))
    };
    view! {
        <td class="pick">
            <input type="checkbox" aria-label=format!("Select {name}") prop:checked=checked
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    selected.update(|s| {
                        s.retain(|k| k != &key);
                        if on { s.push(key.clone()); }
                    });
                }/>
        </td>
    }
}

#[component]
fn Entries(place: Place, listing: Listing, selected: RwSignal<Vec<String>>) -> impl IntoView {
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
    match place.sort {
        Sort::Name => objects.sort_by(|a, b| a.key.cmp(&b.key)),
        Sort::Size => objects.sort_by_key(|o| o.size),
        Sort::Modified => objects.sort_by(|a, b| a.last_modified.cmp(&b.last_modified)),
    }
    let mut folders = folders;
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
    let count = folders.len() + objects.len();
    view! {
        <section class="card table-wrap">
            <table class="listing" aria-describedby="listing-count">
                <thead><tr>
                    <th class="pick"><span class="visually-hidden">"Select"</span></th>
                    {header("Name", Sort::Name)}
                    {header("Size", Sort::Size)}
                    {header("Last modified", Sort::Modified)}
                    <th>"Storage class"</th>
                </tr></thead>
                <tbody>
                    {folders.into_iter().map(|folder| {
                        let name = name_in(&folder, &place.prefix).trim_end_matches('/').to_owned();
                        view! {
                            <tr class="folder">
                                <Pick key=folder.clone() name=format!("{name}/") selected=selected/>
                                <td><a class="entry folder" href=folder_href(place.connection, &place.bucket, &folder)>
                                    <span class="icon-folder" aria-hidden="true"></span>{name}"/"
                                </a></td>
                                <td>"—"</td><td></td><td></td>
                            </tr>
                        }
                    }).collect_view()}
                    {objects.into_iter().map(|o| {
                        let name = name_in(&o.key, &place.prefix).to_owned();
                        let name = if name.is_empty() { "(object named like its folder)".to_owned() } else { name };
                        view! {
                            <tr class="object">
                                <Pick key=o.key.clone() name=name.clone() selected=selected/>
                                <td><a class="entry object" href=object_href(place.connection, &place.bucket, &o.key)>{name}</a></td>
                                <td title=format!("{} bytes", o.size)>{human_size(o.size)}</td>
                                <td>{o.last_modified.as_deref().map(short_time).unwrap_or_default()}</td>
                                <td>{o.storage_class.clone().unwrap_or_else(|| "STANDARD".into())}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <p id="listing-count" class="muted">
            {format!("{count} entries on this page")}
            " · "<span class="hint">"↑ ↓ to move, Enter to open, Backspace to go up"</span>
        </p>
        <Pager base=place.href(None) tokens=place.tokens.clone() next=next/>
    }
    .into_any()
}

#[component]
fn DetailsView(place: Memo<Option<Place>>) -> impl IntoView {
    let details = Resource::new(
        move || {
            place
                .get()
                .and_then(|p| Some((p.connection, p.bucket, p.object?)))
        },
        |key| async move {
            match key {
                Some((connection, bucket, key)) => describe_object(connection, bucket, key).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    keyboard_navigation(place);
    // A refused download comes back here as `?error=`.
    let download_error = refusal_from_query("s3:GetObject", move || {
        place
            .get()
            .map(|p| format!("arn:aws:s3:::{}/{}", p.bucket, p.object.unwrap_or_default()))
            .unwrap_or_default()
    });
    view! {
        // From the URL, not the answer: so the server-rendered head has it too.
        <Title text=move || place.get().and_then(|p| p.object).unwrap_or_default()/>
        <Transition fallback=|| view! { <p class="muted">"Loading the object…"</p> }>
            {move || Suspend::new(async move {
                let result = details.await;
                let Some(place) = place.get_untracked() else {
                    return view! { <ErrorNotice error=Some(AppError::NotFound)/> }.into_any();
                };
                let key = place.object.clone().unwrap_or_default();
                let connection_name = result.as_ref().map(|d| d.connection.clone()).unwrap_or_else(|_| "Connection".into());
                let download = download_href(place.connection, &place.bucket, &key);
                view! {
                    <Crumbs connection=place.connection connection_name=connection_name
                        bucket=place.bucket.clone() prefix=folder_of(&key).to_owned()/>
                    <div class="page-head">
                        <h1 class="object-name">{name_in(&key, folder_of(&key)).to_owned()}</h1>
                        {result.is_ok().then(|| view! {
                            <a class="button primary" href=download rel="external nofollow">"Download"</a>
                        })}
                    </div>
                    <ErrorNotice error=download_error/>
                    {match result {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(d) => view! {
                            {preview_kind(d.content_type.as_deref(), &d.key).map(|kind| view! {
                                <Preview connection=place.connection bucket=place.bucket.clone() key=d.key.clone() kind=kind size=d.size/>
                            })}
                            <DetailsTable details=d.clone()/>
                            <h2>"Share"</h2>
                            <ShareForm connection=place.connection bucket=place.bucket.clone() key=d.key.clone()/>
                            <h2>"Versions"</h2>
                            <Versions connection=place.connection bucket=place.bucket.clone() key=d.key.clone()/>
                            <h2>"Manage"</h2>
                            <ObjectActions connection=place.connection bucket=place.bucket.clone() key=d.key.clone()/>
                        }.into_any(),
                    }}
                    <p><a href=place.folder()>"← Back to the folder"</a></p>
                }.into_any()
            })}
        </Transition>
    }
}

#[component]
fn DetailsTable(details: ObjectDetails) -> impl IntoView {
    let d = details;
    let row = |label: &'static str, value: Option<String>| {
        view! { <tr><th scope="row">{label}</th><td>{value.unwrap_or_else(|| "—".into())}</td></tr> }
    };
    let pairs = |pairs: Vec<(String, String)>| {
        pairs
            .into_iter()
            .map(|(k, v)| view! { <tr><th scope="row"><code>{k}</code></th><td>{v}</td></tr> })
            .collect_view()
    };
    let encryption = match (&d.encryption, &d.kms_key_id) {
        (Some(e), Some(key)) => Some(format!("{e} (KMS key {key})")),
        (Some(e), None) if e == "AES256" => Some("SSE-S3 (AES256)".to_owned()),
        (Some(e), None) => Some(e.clone()),
        (None, _) => None,
    };
    view! {
        <section class="card">
            <table class="details">
                <tbody>
                    {row("Size", Some(format!("{} ({} bytes)", human_size(d.size), d.size)))}
                    {row("Content type", d.content_type.clone())}
                    {row("Last modified", d.last_modified.as_deref().map(short_time).map(|t| t + " UTC"))}
                    {row("Storage class", Some(d.storage_class.clone()))}
                    {row("ETag", d.etag.clone())}
                    {row("Encryption", encryption)}
                    {row("Version", d.version_id.clone())}
                    <tr><th scope="row">"S3 URI"</th><td><code>{d.s3_uri.clone()}</code>" "<CopyButton text=d.s3_uri.clone() label="Copy the S3 URI"/></td></tr>
                    <tr><th scope="row">"ARN"</th><td><code>{d.arn.clone()}</code>" "<CopyButton text=d.arn.clone() label="Copy the ARN"/></td></tr>
                </tbody>
            </table>
        </section>
        <h2>"Metadata"</h2>
        {if d.metadata.is_empty() {
            view! { <p class="muted">"No user metadata."</p> }.into_any()
        } else {
            view! { <section class="card"><table class="details"><tbody>{pairs(d.metadata.clone())}</tbody></table></section> }.into_any()
        }}
        <h2>"Tags"</h2>
        {match d.tags.clone() {
            None => view! { <p class="muted">"The role may not read this object's tags (s3:GetObjectTagging)."</p> }.into_any(),
            Some(tags) if tags.is_empty() => view! { <p class="muted">"No tags."</p> }.into_any(),
            Some(tags) => view! { <section class="card"><table class="details"><tbody>{pairs(tags)}</tbody></table></section> }.into_any(),
        }}
    }
}

/// Arrow keys move between the entries, Enter opens one (it is a link), Backspace goes up a
/// level, unless the user is typing in a field.
fn keyboard_navigation(place: Memo<Option<Place>>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let navigate = leptos_router::hooks::use_navigate();
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.alt_key() || ev.ctrl_key() || ev.meta_key() {
                return;
            }
            let doc = document();
            let active = doc.active_element();
            let typing = active.as_ref().is_some_and(|el| {
                matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            });
            if typing {
                return;
            }
            match ev.key().as_str() {
                "ArrowDown" | "ArrowUp" => {
                    let Ok(entries) = doc.query_selector_all("a.entry") else {
                        return;
                    };
                    let count = entries.length();
                    if count == 0 {
                        return;
                    }
                    let current = (0..count).find(|&i| {
                        entries.item(i).is_some_and(|node| {
                            active.as_ref().is_some_and(|a| node.is_same_node(Some(a)))
                        })
                    });
                    let next = match (current, ev.key().as_str()) {
                        (None, "ArrowDown") => 0,
                        (None, _) => count - 1,
                        (Some(i), "ArrowDown") => (i + 1).min(count - 1),
                        (Some(i), _) => i.saturating_sub(1),
                    };
                    if let Some(el) = entries
                        .item(next)
                        .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
                    {
                        ev.prevent_default();
                        let _ = el.focus();
                    }
                }
                "Backspace" => {
                    if let Some(place) = place.get_untracked() {
                        ev.prevent_default();
                        let target = match place.object {
                            Some(_) => place.folder(),
                            None => place.parent(),
                        };
                        navigate(&target, Default::default());
                    }
                }
                _ => {}
            }
        });
        on_cleanup(move || handle.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = place;
}
