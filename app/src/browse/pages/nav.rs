//! What every browsing page shares: where it is (all in its URL), the breadcrumbs, and the
//! pager over S3's continuation tokens.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    browse::{PAGE_SIZE, PAGE_SIZES},
    location::*,
    url::{use_query, use_raw_path},
};

/// The cursor stack: the ContinuationTokens that led to the current page, in the URL as
/// repeated `t=` values, so every page has its own shareable URL and Previous drops the last.
pub(super) fn tokens() -> Memo<Vec<String>> {
    let query = use_query();
    Memo::new(move |_| query.read().get_all("t"))
}

pub(super) fn connection_id() -> Memo<Option<i64>> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("conn").and_then(|c| c.parse().ok()))
}

/// `href` plus the given cursor stack.
pub(super) fn with_tokens(href: String, tokens: &[String]) -> String {
    tokens
        .iter()
        .fold(href, |href, t| with_query(&href, "t", t))
}

/// Previous and Next links for a cursor stack; `next` is the token of the following page.
#[component]
pub(super) fn Pager(
    base: String,
    tokens: Vec<String>,
    next: Option<String>,
    /// Each pager's own name: a page with two has them both as landmarks.
    #[prop(default = "Pages")]
    label: &'static str,
) -> impl IntoView {
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
            <nav class="pager" aria-label=label>
                {match previous {
                    Some(href) => view! { <a class="button" rel="prev" href=href>"← Previous"</a> }.into_any(),
                    None => view! { <span class="button" aria-disabled="true">"← Previous"</span> }.into_any(),
                }}
                <span class="muted">{format!("Page {page}")}</span>
                {match next {
                    Some(href) => view! { <a class="button" rel="next" href=href>"Next →"</a> }.into_any(),
                    None => view! { <span class="button" aria-disabled="true">"Next →"</span> }.into_any(),
                }}
            </nav>
        }
    })
}

/// The trail to a folder. Within a location (`root`: its prefix), the folders above it are
/// named but not linked: they cannot be opened.
#[component]
pub(super) fn Crumbs(
    connection: i64,
    connection_name: String,
    #[prop(optional, into)] bucket: Option<String>,
    #[prop(optional, into)] prefix: String,
    #[prop(default = None)] root: Option<String>,
) -> impl IntoView {
    let trail = bucket.map(|bucket| {
        let name = bucket.clone();
        let crumb = move |name: String, folder: &str| match &root {
            Some(root) if folder.len() < root.len() => view! { <li>{name}</li> }.into_any(),
            _ => {
                let href = folder_href(connection, &bucket, folder);
                view! { <li><a href=href>{name}</a></li> }.into_any()
            }
        };
        std::iter::once(crumb(name, ""))
            .chain(
                breadcrumbs(&prefix)
                    .into_iter()
                    .map(|(name, folder)| crumb(name, &folder)),
            )
            .collect_view()
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

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Sort {
    Name,
    Size,
    Modified,
}

impl Sort {
    pub(super) fn parse(s: Option<&str>) -> Self {
        match s {
            Some("size") => Sort::Size,
            Some("modified") => Sort::Modified,
            _ => Sort::Name,
        }
    }

    pub(super) fn param(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::Size => "size",
            Sort::Modified => "modified",
        }
    }
}

/// Where the page is: everything in its URL.
#[derive(Clone, PartialEq)]
pub(super) struct Place {
    pub(super) connection: i64,
    pub(super) bucket: String,
    pub(super) prefix: String,
    pub(super) filter: String,
    pub(super) sort: Sort,
    pub(super) descending: bool,
    pub(super) tokens: Vec<String>,
    pub(super) object: Option<String>,
    /// Entries a page (`?per=`): [`PAGE_SIZE`] unless the user chose another.
    pub(super) per: i32,
}

impl Place {
    pub(super) fn folder(&self) -> String {
        folder_href(self.connection, &self.bucket, &self.prefix)
    }

    /// This folder with the same filter (and sort, unless `sort` is given), on its first page.
    pub(super) fn href(&self, sort: Option<(Sort, bool)>) -> String {
        self.href_per(sort, self.per)
    }

    /// [`Place::href`] with `per` entries a page.
    pub(super) fn href_per(&self, sort: Option<(Sort, bool)>, per: i32) -> String {
        let (sort, descending) = sort.unwrap_or((self.sort, self.descending));
        let mut href = self.folder();
        if per != PAGE_SIZE {
            href = with_query(&href, "per", &per.to_string());
        }
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
    pub(super) fn parent(&self) -> String {
        match self.prefix.is_empty() {
            true => buckets_href(self.connection),
            false => folder_href(self.connection, &self.bucket, folder_of(&self.prefix)),
        }
    }
}

pub(super) fn place() -> Memo<Option<Place>> {
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
            per: query
                .get("per")
                .and_then(|p| p.parse().ok())
                .filter(|p| PAGE_SIZES.contains(p))
                .unwrap_or(PAGE_SIZE),
            object: query
                .get("object")
                .filter(|k| !k.is_empty())
                .map(str::to_owned),
        })
    })
}

/// Arrow keys move between the entries, Enter opens one (it is a link), Backspace goes up a
/// level, unless the user is typing in a field.
pub(super) fn keyboard_navigation(place: Memo<Option<Place>>) {
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
