//! The search page: the form (a GET form: every search has its URL) and the results as they
//! stream in, with the walk's progress, Cancel, and Continue where a walk request stopped.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_params_map};

use super::{search_href, Hit, Kind, Search, Stop, STORAGE_CLASSES};
use crate::{
    format::{human_size, minutes},
    location::{folder_href, object_href},
    url::use_query,
};

/// Where the walk stands, as the page shows it (the server renders it idle).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Walk {
    Idle,
    Running {
        scanned: u64,
    },
    Stopped {
        scanned: u64,
        stop: Stop,
        position: Option<String>,
    },
    /// S3 (or the network, or the server) failed; `position` is where to retry from.
    Failed {
        message: String,
        position: Option<String>,
    },
    Cancelled {
        scanned: u64,
        position: Option<String>,
    },
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query();
    let place = Memo::new(move |_| {
        let params = params.read();
        let connection: i64 = params.get("conn")?.parse().ok()?;
        Some((connection, params.get("bucket")?))
    });
    let search = Memo::new(move |_| Search::from_query(&query.read()));
    let hits = RwSignal::new(Vec::<Hit>::new());
    let walk = RwSignal::new(Walk::Idle);
    #[cfg(feature = "hydrate")]
    run(place, search, hits, walk);
    view! {
        {move || place.get().map(|(connection, bucket)| {
            let s = search.get();
            let folder = folder_href(connection, &bucket, &s.within);
            let title = format!("Search {bucket}/{}", s.within);
            view! {
                <Title text=title/>
                <nav class="crumbs" aria-label="Breadcrumb">
                    <a href=folder.clone()>{format!("{bucket}/{}", s.within)}</a>
                </nav>
                <div class="page-head">
                    <h1>{match s.within.is_empty() {
                        true => format!("Search in {bucket}"),
                        false => format!("Search in {}", s.within),
                    }}</h1>
                </div>
                <SearchForm connection bucket=bucket.clone() search=s/>
                <Results connection bucket hits walk/>
            }
        })}
    }
}

/// The form: a GET to this page, so a search is a link, and the back button goes back to it.
#[component]
fn SearchForm(connection: i64, bucket: String, search: Search) -> impl IntoView {
    let action = search_href(connection, &bucket, &Search::default());
    let kind = search.kind;
    let class = search.class.clone();
    view! {
        <Form method="GET" action=action attr:class="search-form" attr:role="search">
            <input type="hidden" name="within" value=search.within.clone()/>
            <div class="search-main">
                <label for="search-kind" class="visually-hidden">"How the key is matched"</label>
                <select id="search-kind" name="kind">
                    {Kind::ALL.map(|k| view! {
                        <option value=k.name() selected=k == kind>{format!("Key {}", k.label())}</option>
                    })}
                </select>
                <label for="search-q" class="visually-hidden">"Search for"</label>
                <input id="search-q" name="q" type="search" autocomplete="off" spellcheck="false"
                    placeholder="report, *.parquet, 2024-??/ or ^logs/\\d+" value=search.pattern.clone()/>
                <button type="submit">"Search"</button>
            </div>
            <fieldset class="search-filters">
                <legend>"Filters"</legend>
                <label>"Size at least " <input name="min" size="8" placeholder="10 MiB" value=search.min_size.clone()/></label>
                <label>"at most " <input name="max" size="8" placeholder="2 GiB" value=search.max_size.clone()/></label>
                <label>"Modified from " <input name="from" type="date" value=search.from.clone()/></label>
                <label>"to " <input name="to" type="date" value=search.to.clone()/></label>
                <label>"Storage class "
                    <select name="class">
                        <option value="" selected=class.is_empty()>"any"</option>
                        {STORAGE_CLASSES.map(|c| view! { <option value=c selected=c == class>{c}</option> })}
                    </select>
                </label>
            </fieldset>
        </Form>
    }
}

/// The matches so far, and where the walk is.
#[component]
fn Results(
    connection: i64,
    bucket: String,
    hits: RwSignal<Vec<Hit>>,
    walk: RwSignal<Walk>,
) -> impl IntoView {
    let query = use_query();
    let search = Memo::new(move |_| Search::from_query(&query.read()));
    let continue_from = {
        let bucket = bucket.clone();
        move |position: Option<String>| {
            position.map(|after| {
                let href = search_href(
                    connection,
                    &bucket,
                    &Search {
                        after,
                        ..search.get()
                    },
                );
                view! { " " <a class="button" href=href>"Continue"</a> }
            })
        }
    };
    let status = move || {
        match walk.get() {
        Walk::Idle => match search.read().asks() {
            true => view! { <p class="muted">"Starting…"</p> }.into_any(),
            false => view! { <p class="muted">"Type part of a name or a pattern, or set a filter."</p> }.into_any(),
        },
        Walk::Running { scanned } => view! {
            <p class="search-status">
                {format!("Searching… {} keys scanned, {} found. ", count(scanned), count(hits.read().len() as u64))}
                <button type="button" on:click=move |_| cancel()>"Cancel"</button>
            </p>
        }.into_any(),
        Walk::Stopped { scanned, stop, position } => {
            let found = count(hits.read().len() as u64);
            let why = match stop {
                Stop::Complete => format!("Searched every key ({} in this pass): {found} found.", count(scanned)),
                Stop::Keys => format!("Searched {} keys, up to {}: {found} found so far.", count(scanned), position.clone().unwrap_or_default()),
                Stop::Hits => format!("Found {found}; stopped at {} to keep the page light.", position.clone().unwrap_or_default()),
                Stop::Time => format!("Searched {} keys, up to {} (time for one request): {found} found so far.", count(scanned), position.clone().unwrap_or_default()),
            };
            view! { <p class="search-status">{why}{continue_from(position)}</p> }.into_any()
        }
        Walk::Failed { message, position } => view! {
            <p class="notice error search-status" role="alert">{message}{continue_from(position)}</p>
        }.into_any(),
        Walk::Cancelled { scanned, position } => view! {
            <p class="search-status">
                {format!("Cancelled after {} keys, {} found.", count(scanned), count(hits.read().len() as u64))}
                {continue_from(position)}
            </p>
        }.into_any(),
    }
    };
    let bucket = StoredValue::new(bucket);
    view! {
        <div role="status" aria-live="polite">{status}</div>
        <noscript><p class="notice info">"Search shows its results as they are found, which needs JavaScript."</p></noscript>
        <Show when=move || !hits.read().is_empty()>
            <table class="objects search-results">
                <thead><tr><th scope="col">"Key"</th><th scope="col" class="num">"Size"</th>
                    <th scope="col">"Modified"</th><th scope="col">"Class"</th></tr></thead>
                <tbody>
                    <For each=move || hits.get() key=|hit| hit.key.clone() let:hit>
                        <HitRow connection bucket=bucket.get_value() hit/>
                    </For>
                </tbody>
            </table>
        </Show>
    }
}

#[component]
fn HitRow(connection: i64, bucket: String, hit: Hit) -> impl IntoView {
    // A folder marker opens its folder; anything else, its details.
    let href = match hit.key.ends_with('/') {
        true => folder_href(connection, &bucket, &hit.key),
        false => object_href(connection, &bucket, &hit.key),
    };
    view! {
        <tr>
            <td class="name"><a href=href>{hit.key.clone()}</a></td>
            <td class="num">{human_size(hit.size.max(0) as u64)}</td>
            <td>{hit.modified.as_deref().map(minutes).unwrap_or_default()}</td>
            <td>{hit.class.clone().unwrap_or_else(|| "STANDARD".into())}</td>
        </tr>
    }
}

/// `12,345`.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// The walk request in flight (its number and the request), for Cancel; a walk whose number is
// no longer the newest was replaced by another search and shows nothing more.
#[cfg(feature = "hydrate")]
thread_local! {
    static IN_FLIGHT: std::cell::RefCell<(u64, Option<web_sys::XmlHttpRequest>)> =
        const { std::cell::RefCell::new((0, None)) };
}

fn cancel() {
    #[cfg(feature = "hydrate")]
    IN_FLIGHT.with(|x| {
        if let Some(xhr) = x.borrow_mut().1.take() {
            let _ = xhr.abort();
        }
    });
}

/// Starts a walk request whenever the search changes (a Continue keeps what was found: it is
/// the same search from further on), and keeps the walk's position in the URL as it goes, so a
/// reload or a copied link continues from there.
#[cfg(feature = "hydrate")]
fn run(
    place: Memo<Option<(i64, String)>>,
    search: Memo<Search>,
    hits: RwSignal<Vec<Hit>>,
    walk: RwSignal<Walk>,
) {
    use leptos::task::spawn_local;

    let previous = StoredValue::new(None::<Search>);
    Effect::new(move |_| {
        let Some((connection, bucket)) = place.get() else {
            return;
        };
        let s = search.get();
        cancel();
        let same = previous.with_value(|p| {
            p.as_ref().is_some_and(|p| {
                Search {
                    after: s.after.clone(),
                    ..p.clone()
                } == s
            })
        });
        previous.set_value(Some(s.clone()));
        if !same {
            hits.set(Vec::new());
        }
        if !s.asks() {
            walk.set(Walk::Idle);
            return;
        }
        walk.set(Walk::Running { scanned: 0 });
        let id = IN_FLIGHT.with(|x| {
            let mut x = x.borrow_mut();
            x.0 += 1;
            x.0
        });
        let newest = move || IN_FLIGHT.with(|x| x.borrow().0 == id);
        let url = format!(
            "/api/search/{connection}/{}?{}",
            crate::url::encode_component(&bucket),
            s.to_query()
        );
        spawn_local(async move {
            let mut position = (!s.after.is_empty()).then(|| s.after.clone());
            let mut scanned = 0;
            let mut ended = false;
            let result = super::stream::read(
                &url,
                |xhr| IN_FLIGHT.with(|x| x.borrow_mut().1 = Some(xhr)),
                |line| match line {
                    _ if !newest() => {}
                    super::Line::Page {
                        hits: found,
                        scanned: n,
                        position: at,
                    } => {
                        hits.update(|h| h.extend(found));
                        scanned = n;
                        keep_position(connection, &bucket, &s, &at);
                        position = Some(at);
                        walk.set(Walk::Running { scanned });
                    }
                    super::Line::End {
                        scanned,
                        position,
                        stop,
                    } => {
                        ended = true;
                        // Done: the page's URL is the whole search again, not a last position.
                        if stop == Stop::Complete {
                            keep_position(connection, &bucket, &s, "");
                        }
                        walk.set(Walk::Stopped {
                            scanned,
                            stop,
                            position,
                        });
                    }
                    super::Line::Failed { message, position } => {
                        ended = true;
                        walk.set(Walk::Failed { message, position });
                    }
                },
            )
            .await;
            if !newest() {
                return;
            }
            let aborted = IN_FLIGHT.with(|x| x.borrow_mut().1.take()).is_none();
            match result {
                Err(message) => walk.set(Walk::Failed { message, position }),
                Ok(()) if ended => {}
                // Cancelled here (Cancel took the request), or cut off on the way.
                Ok(()) if aborted => walk.set(Walk::Cancelled { scanned, position }),
                Ok(()) => walk.set(Walk::Failed {
                    message: "the connection was lost during the search".into(),
                    position,
                }),
            }
        });
    });
    on_cleanup(cancel);
}

/// The page's URL, with the walk's position: replaced in place (no history entry, and the
/// router does not load the page again for it).
#[cfg(feature = "hydrate")]
fn keep_position(connection: i64, bucket: &str, search: &Search, position: &str) {
    let href = search_href(
        connection,
        bucket,
        &Search {
            after: position.to_owned(),
            ..search.clone()
        },
    );
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&href));
    }
}
