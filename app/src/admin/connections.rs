//! Connections: every user's, filterable, each with its use from the audit trail; one
//! connection's page with its timeline, a re-check and the administrator's disable switch.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::components::A;

use super::audit::AuditResults;
use super::{
    get_connection, list_connections, user_href, when, AdminNav, ConnectionQuery, ConnectionRow,
    NextPage, ToggleForm,
};
use crate::{
    audit::AuditFilter,
    connections::doctor::{admin_doctor_report, AdminCheck, ReportView},
    connections::Status,
    connections::{AdminDeleteConnection, RecheckConnection, SetConnectionDisabled},
    forms::error_from_query,
    grants::LocationsSection,
    ui::ErrorNotice,
    url::{encode_component, load_by_id, use_query},
};

use crate::location::admin_connection_href as href;

const STATUSES: [&str; 4] = ["pending", "verified", "failed", "disabled"];

#[component]
pub fn AdminConnectionsPage() -> impl IntoView {
    let query = use_query();
    let search = Memo::new(move |_| {
        let q = query.read();
        let get = |name| q.get(name).unwrap_or_default().to_owned();
        ConnectionQuery {
            owner: get("owner"),
            owner_id: None,
            account: get("account"),
            status: get("status"),
            after: q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0),
        }
    });
    let connections = Resource::new(move || search.get(), list_connections);
    let deleted = move || query.read().get("deleted").is_some();
    let checked = move || query.read().get("doctor").map(str::to_owned);
    view! {
        <Title text="Connections · Admin"/>
        <h1>"Connections"</h1>
        <AdminNav/>
        <Show when=deleted>
            <p class="notice success" role="status">"Connection deleted. Its owner has been told."</p>
        </Show>
        {move || checked().map(|n| view! {
            <p class="notice success" role="status">{format!("The doctor checked {n} verified connection(s): each one's status is below.")}</p>
        })}
        <form method="post" action=AdminCheck::PATH class="inline" data-step-up="">
            <button type="submit">"Check all verified connections"</button>
        </form>
        <form method="get" action="/admin/connections" class="filters" role="search">
            <label>"Owner's email"
                <input type="search" name="owner" value=move || search.read().owner.clone()/>
            </label>
            <label>"AWS account"
                <input type="search" name="account" inputmode="numeric"
                    value=move || search.read().account.clone()/>
            </label>
            <label>"Status"
                <select name="status">
                    <option value="">"Any"</option>
                    {STATUSES.into_iter().map(|s| view! {
                        <option value=s selected=move || search.read().status == s>{s}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit">"Filter"</button>
        </form>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match connections.await {
                    Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                    Ok(page) => {
                        let q = search.read_untracked().clone();
                        let next = page.next.map(|after| format!(
                            "/admin/connections?owner={}&account={}&status={}&after={after}",
                            encode_component(&q.owner), encode_component(&q.account),
                            encode_component(&q.status),
                        ));
                        view! { <ConnectionsTable rows=page.rows/><NextPage href=next/> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// Connections as rows: owner, name, account, role, status and use.
#[component]
pub(super) fn ConnectionsTable(rows: Vec<ConnectionRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p>"No connections."</p> }.into_any();
    }
    view! {
        <div class="table-wrap"><table class="wide">
            <thead><tr>
                <th>"Id"</th><th>"Owner"</th><th>"Name"</th><th>"Account"</th><th>"Role ARN"</th>
                <th>"Status"</th><th>"Doctor"</th><th>"Last verified"</th><th>"Last used"</th>
                <th title="AssumeRole calls in the last 24 hours">"Assumptions 24 h"</th>
                <th>"Refusals 24 h"</th>
            </tr></thead>
            <tbody>{rows.into_iter().map(|c| {
                let (id, owner, name) = (c.id, c.owner.clone(), c.name.clone());
                view! {
                <tr>
                    <td><A href=href(id)>{id}</A></td>
                    <td><A href=user_href(c.owner_id)>{owner}</A></td>
                    <td><A href=href(id)>{name}</A></td>
                    <td><code>{c.account_id.clone().unwrap_or_default()}</code></td>
                    <td><code class="arn">{c.role_arn.clone().unwrap_or_default()}</code></td>
                    <td><StatusCell connection=c.clone()/></td>
                    <td class="checkup">{c.checkup.clone().map_or_else(
                        || view! { <span class="muted">"Not checked"</span> }.into_any(),
                        |k| view! {
                            <span class=format!("badge {}", k.health.class())>{k.health.label()}</span>
                            <br/><small class="muted">{when(Some(&k.checked_at))}</small>
                        }.into_any(),
                    )}</td>
                    <td>{when(c.last_verified_at.as_deref())}</td>
                    <td>{when(c.last_used_at.as_deref())}</td>
                    <td>{c.assumptions_24h}</td>
                    <td>{c.refusals_24h}</td>
                </tr>
            }}).collect_view()}</tbody>
        </table></div>
    }
    .into_any()
}

#[component]
fn StatusCell(connection: ConnectionRow) -> impl IntoView {
    view! {
        <span class=format!("badge {}", connection.status.class())>{connection.status.label()}</span>
        {connection.trust_warning.then(|| view! { " " <span class="badge warning">"Open trust"</span> })}
    }
}

#[component]
pub fn AdminConnectionPage() -> impl IntoView {
    let connection = load_by_id(get_connection);
    let rechecked = {
        let query = use_query();
        move || query.read().get("rechecked").is_some()
    };
    view! {
        <Title text="Connection · Admin"/>
        <AdminNav/>
        <ErrorNotice error=error_from_query()/>
        <Show when=rechecked>
            <div class="notice" role="status"><p>"Re-checked: the result is recorded below and in the audit trail."</p></div>
        </Show>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match connection.await {
                    Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                    Ok(c) => view! { <ConnectionView connection=c/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ConnectionView(connection: ConnectionRow) -> impl IntoView {
    let c = connection;
    let owner = c.owner.clone();
    let disabled = c.status == Status::Disabled;
    let timeline = AuditFilter {
        connection: c.id.to_string(),
        ..AuditFilter::default()
    };
    view! {
        <h1>{c.name.clone()}</h1>
        <dl class="facts">
            <dt>"Owner"</dt><dd><A href=user_href(c.owner_id)>{owner}</A></dd>
            <dt>"AWS account"</dt><dd><code>{c.account_id.clone().unwrap_or_default()}</code></dd>
            <dt>"Role ARN"</dt><dd><code class="arn">{c.role_arn.clone().unwrap_or_default()}</code></dd>
            <dt>"Status"</dt><dd><StatusCell connection=c.clone()/></dd>
            <dt>"Last verified"</dt><dd>{when(c.last_verified_at.as_deref())}</dd>
            <dt>"Last used"</dt><dd>{when(c.last_used_at.as_deref())}</dd>
            <dt>"Last 24 hours"</dt><dd>{c.assumptions_24h}" assumptions, "{c.refusals_24h}" refused"</dd>
        </dl>
        <div class="actions">
            <form method="post" action=RecheckConnection::PATH class="inline" data-step-up="">
                <input type="hidden" name="id" value=c.id/>
                <button type="submit">"Re-check"</button>
            </form>
            <ToggleForm action=SetConnectionDisabled::PATH id=c.id field="disabled" value=!disabled
                label=if disabled { "Enable connection" } else { "Disable connection" }/>
        </div>
        <details class="danger-zone">
            <summary>"Delete this connection…"</summary>
            <p>"Crossview forgets its role ARN and ExternalId, and its locations, grants and share links go with it. Its owner is told. The role in their AWS account stays."</p>
            <form method="post" action=AdminDeleteConnection::PATH data-step-up="">
                <input type="hidden" name="id" value=c.id/>
                <button type="submit" class="danger">"Delete connection"</button>
            </form>
        </details>
        <DoctorSection id=c.id/>
        <LocationsSection connection=c.id back=crate::location::admin_connection_href(c.id)/>
        <section class="card">
            <h2>"Timeline"</h2>
            <AuditResults filter=timeline/>
        </section>
    }
}

/// The doctor's last report on the connection, and a run on demand (as the administrator).
#[component]
fn DoctorSection(id: i64) -> impl IntoView {
    let report = Resource::new(move || id, admin_doctor_report);
    view! {
        <section class="card" aria-label="Doctor">
            <h2>"Doctor"</h2>
            <form method="post" action=AdminCheck::PATH class="inline" data-step-up="">
                <input type="hidden" name="id" value=id/>
                <button type="submit">"Run the doctor"</button>
            </form>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match report.await {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(None) => view! { <p>"Not checked yet."</p> }.into_any(),
                        Ok(Some(report)) => view! { <ReportView report connection=id owner=false/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
