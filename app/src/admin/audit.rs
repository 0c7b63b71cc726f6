//! The audit trail's pages: the search (every filter and page in the URL), its results, the
//! export with its progress, and the chain check.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::{search_audit, AdminNav, VerifyChain};
use crate::{
    audit::{class_label, Activity, AuditEntry, AuditFilter, CLASSES},
    ui::ErrorNotice,
    url::use_query,
};

/// `/admin/audit?…`: the whole trail, searchable.
#[component]
pub fn AuditTrailPage() -> impl IntoView {
    let query = use_query();
    let filter = Memo::new(move |_| AuditFilter::from_query(&query.read()));
    let field = move |get: fn(&AuditFilter) -> &String| move || get(&filter.read()).clone();
    view! {
        <Title text="Audit trail · Admin"/>
        <h1>"Audit trail"</h1>
        <AdminNav/>
        <form method="get" action="/admin/audit" class="filters" role="search">
            <label>"Actor's email"<input type="search" name="actor" value=field(|f| &f.actor)/></label>
            <label>"Connection id"<input type="search" name="connection" inputmode="numeric" value=field(|f| &f.connection)/></label>
            <label>"AWS account"<input type="search" name="account" inputmode="numeric" value=field(|f| &f.account)/></label>
            <label>"Action"
                <select name="action">
                    <option value="">"Any"</option>
                    {Activity::ALL.iter().copied().map(|a| view! {
                        <option value=a.name() selected=move || filter.read().action == a.name()>{a.name()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Outcome"
                <select name="outcome">
                    <option value="">"Any"</option>
                    {CLASSES.into_iter().map(|c| view! {
                        <option value=c selected=move || filter.read().outcome == c>{class_label(c)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Bucket"<input type="search" name="bucket" value=field(|f| &f.bucket)/></label>
            <label>"Key prefix"<input type="search" name="prefix" value=field(|f| &f.prefix)/></label>
            <label>"From (UTC)"<input type="datetime-local" name="from" value=field(|f| &f.from)/></label>
            <label>"Until (UTC)"<input type="datetime-local" name="to" value=field(|f| &f.to)/></label>
            <button type="submit">"Search"</button>
            <A href="/admin/audit" attr:class="button secondary">"Clear"</A>
        </form>
        <Export filter=filter/>
        {move || view! { <AuditResults filter=filter.get() paged=true/> }}
    }
}

/// A page of the trail for `filter`, newest first. `paged`: links to the next page (this page's
/// URL with the cursor); otherwise a link to the same search in the audit trail.
#[component]
pub fn AuditResults(filter: AuditFilter, #[prop(optional)] paged: bool) -> impl IntoView {
    let rows = {
        let filter = filter.clone();
        Resource::new(move || filter.clone(), search_audit)
    };
    let more_href = move |next: Option<String>| -> Option<(String, &'static str)> {
        match paged {
            true => next.map(|cursor| {
                let query = filter.at_page(Some(&cursor)).to_query();
                (format!("/admin/audit?{query}"), "Older")
            }),
            false => Some((
                format!("/admin/audit?{}", filter.to_query()),
                "Open in the audit trail",
            )),
        }
    };
    view! {
        <Transition fallback=|| view! { <p class="muted">"Searching…"</p> }>
            {move || {
                let more_href = more_href.clone();
                Suspend::new(async move {
                    match rows.await {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(page) => {
                            let more = more_href(page.next.clone());
                            view! {
                                <AuditTable rows=page.rows/>
                                {more.map(|(href, label)| view! {
                                    <p><A href=href attr:class="button secondary" attr:rel="next">{label}</A></p>
                                })}
                            }.into_any()
                        }
                    }
                })
            }}
        </Transition>
    }
}

/// One line a row: when, who, what, where, the location and grant it went through, and how it
/// ended; the rest (connection, account, AWS request, detail) on expanding the row.
#[component]
fn AuditTable(rows: Vec<AuditEntry>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p>"No audit rows match."</p> }.into_any();
    }
    view! {
        <div class="table-wrap"><table class="audit compact">
            <thead><tr>
                <th>"When (UTC)"</th><th>"Who"</th><th>"Action"</th><th>"Bucket / key"</th>
                <th>"Location"</th><th>"Grant"</th><th>"Outcome"</th><th>"More"</th>
            </tr></thead>
            <tbody>{rows.into_iter().map(|e| view! { <AuditRow e/> }).collect_view()}</tbody>
        </table></div>
    }
    .into_any()
}

#[component]
fn AuditRow(e: AuditEntry) -> impl IntoView {
    let place = format!(
        "{}{}",
        e.bucket.clone().unwrap_or_default(),
        e.key
            .as_ref()
            .map(|k| format!(" / {k}"))
            .unwrap_or_default()
    );
    let outcome = match e.outcome.as_str() {
        "ok" => class_label(&e.class).to_owned(),
        code => format!("{} · {code}", class_label(&e.class)),
    };
    let id = e.id;
    view! {
        <tr data-id=id>
            <td data-label="When"><time datetime=e.at.clone()>{e.at.get(..19).unwrap_or_default().replace('T', " ")}</time></td>
            <td data-label="Who" class="clip" title=e.actor.clone()>{e.actor.clone().unwrap_or_else(|| "—".into())}</td>
            <td data-label="Action"><code>{e.action.clone()}</code></td>
            <td data-label="Where" class="clip" title=place.clone()>{place.clone()}</td>
            <td data-label="Location" class="clip" title=e.location.clone()>{e.location.clone().unwrap_or_else(|| "—".into())}</td>
            <td data-label="Grant">{e.grant.map(|g| g.to_string()).unwrap_or_else(|| "—".into())}</td>
            <td data-label="Outcome"><span class=format!("badge {}", e.class)>{outcome}</span></td>
            <td data-label="More"><RowDetails e/></td>
        </tr>
    }
    .into_any()
}

/// What a row's one line leaves out.
#[component]
fn RowDetails(e: AuditEntry) -> impl IntoView {
    view! {
        <details class="row-more">
            <summary><span class="visually-hidden">{format!("Row {} ", e.id)}</span>"Details"</summary>
            <dl class="facts">
                <dt>"Connection"</dt>
                <dd>{e.connection_id.map(|c| view! { <A href=format!("/admin/connections/{c}")>{c}</A> })}</dd>
                <dt>"Account"</dt><dd><code>{e.account_id.unwrap_or_else(|| "—".into())}</code></dd>
                <dt>"AWS request"</dt><dd><code>{e.aws_request_id.unwrap_or_else(|| "—".into())}</code></dd>
                <dt>"Detail"</dt><dd><code class="wrap">{e.detail}</code></dd>
            </dl>
        </details>
    }
    .into_any()
}

/// The export links. They are plain downloads; once the page is interactive a click streams
/// the file here instead, showing how much has arrived, and saves it when complete.
#[component]
fn Export(filter: Memo<AuditFilter>) -> impl IntoView {
    let progress = RwSignal::new(None::<String>);
    let href = move |format: &str| {
        let query = filter.read().at_page(None).to_query();
        let sep = if query.is_empty() { "" } else { "&" };
        format!("/admin/audit/export?format={format}{sep}{query}")
    };
    let link = move |format: &'static str, label: &'static str| {
        view! {
            <a href=move || href(format) download="" class="button secondary" data-step-up=""
                on:click=move |ev| save_with_progress(ev, href(format), format, progress)>{label}</a>
        }
    };
    view! {
        <div class="actions export">
            "Export this search, oldest first, with each row's hash: "
            {link("csv", "CSV")}" "{link("ndjson", "NDJSON")}
            <span role="status" class="muted">{move || progress.get()}</span>
        </div>
    }
}

#[cfg(feature = "hydrate")]
fn save_with_progress(
    ev: leptos::ev::MouseEvent,
    url: String,
    format: &'static str,
    progress: RwSignal<Option<String>>,
) {
    use crate::transfers::xhr::{self, Failure};
    ev.prevent_default();
    progress.set(Some("Exporting…".into()));
    leptos::task::spawn_local(async move {
        let report = move |bytes: f64| {
            progress.set(Some(format!(
                "Exporting… {} received",
                crate::format::human_size(bytes as u64)
            )));
        };
        let cancel = RwSignal::new(false);
        let text = match xhr::send("GET", &url, &[], None, &report, cancel).await {
            Ok(done) => done.response_text().ok().flatten().unwrap_or_default(),
            Err(Failure::Blocked | Failure::Cancelled) => {
                progress.set(Some("The export was interrupted. Try again.".into()));
                return;
            }
            Err(Failure::Other(_)) => {
                progress.set(Some(
                    "The export failed. Reload the page and try again.".into(),
                ));
                return;
            }
        };
        let rows = text
            .lines()
            .count()
            .saturating_sub(usize::from(format == "csv"));
        let parts = js_sys::Array::of1(&text.as_str().into());
        let mime = match format {
            "csv" => "text/csv",
            _ => "application/x-ndjson",
        };
        let saved = crate::ui::save_file(&parts, mime, &format!("crossview-audit.{format}")).ok();
        progress.set(Some(match saved {
            Some(()) => format!(
                "Saved: {rows} rows, {}.",
                crate::format::human_size(text.len() as u64)
            ),
            None => "The browser could not save the file.".into(),
        }));
    });
}

/// Without the browser side, the link is a plain download.
#[cfg(not(feature = "hydrate"))]
fn save_with_progress(
    _: leptos::ev::MouseEvent,
    _: String,
    _: &'static str,
    _: RwSignal<Option<String>>,
) {
}

/// "Check the chain" and what it found.
#[component]
pub fn ChainCheck() -> impl IntoView {
    let check = ServerAction::<VerifyChain>::new();
    view! {
        <ActionForm action=check>
            <button type="submit" disabled=move || check.pending().get()>"Check the chain"</button>
        </ActionForm>
        {move || check.value().get().map(|result| match result {
            Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
            Ok(report) => match report.problem {
                None => view! {
                    <p class="notice" role="status">{format!(
                        "The chain holds: {} rows from row {} in {} shards. Heads' root {}.",
                        report.rows, report.first_id, report.shards, report.root
                    )}</p>
                }.into_any(),
                Some(problem) => view! {
                    <div class="notice error" role="alert"><p>{format!(
                        "The chain is broken: {problem}. {} rows before it hold.", report.rows
                    )}</p></div>
                }.into_any(),
            },
        })}
    }
}
