//! Administration: every user, every connection, and the audit log.

#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::call;
use crate::{audit::AuditEntry, error::AppError, forms::error_from_query, ui::ErrorNotice};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
    pub disabled: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
}

#[server(endpoint = "admin_users")]
pub async fn list_users() -> Result<Vec<UserRow>, AppError> {
    call::admin(async |cx| ssr::list_users(cx.pool()).await).await
}

/// A connection as an admin sees it: whose it is and its state, never anything AWS issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRow {
    pub id: i64,
    pub owner: String,
    pub name: String,
    pub account_id: Option<String>,
    pub status: String,
    pub trust_warning: bool,
}

#[server(endpoint = "admin_connections")]
pub async fn all_connections() -> Result<Vec<ConnectionRow>, AppError> {
    call::admin(async |cx| ssr::all_connections(cx.pool()).await).await
}

/// The newest 200 audit entries.
#[server(endpoint = "admin_audit")]
pub async fn audit_log() -> Result<Vec<AuditEntry>, AppError> {
    call::admin(async |cx| crate::audit::ssr::recent(cx.pool(), 200).await).await
}

/// Makes a user an administrator, or not (`admin`). The last administrator stays one.
#[server(endpoint = "admin_set_admin")]
pub async fn set_admin(email: String, admin: bool) -> Result<(), AppError> {
    call::form("/admin")
        .admin(async |cx| {
            crate::auth::ssr::set_admin(cx.pool(), Some(cx.user.id), &email, admin).await?;
            call::redirect("/admin");
            Ok(())
        })
        .await
}

#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <Title text="Admin"/>
        <h1>"Admin"</h1>
        <ErrorNotice error=error_from_query()/>
        <AdminTable title="Users" rows=Resource::new(|| (), |_| list_users())
            columns=&["Email", "Role", "Status", "Created"]
            row=|u: UserRow| view! {
                <td>{u.email.clone()}</td>
                <td>{if u.is_admin { "Admin" } else { "User" }}" "<RoleForm email=u.email is_admin=u.is_admin/></td>
                <td>{if u.disabled { "Disabled" } else { "Active" }}</td>
                <td><time datetime=u.created_at.clone()>{u.created_at.get(..10).unwrap_or_default().to_owned()}</time></td>
            }/>
        <AdminTable title="Connections" rows=Resource::new(|| (), |_| all_connections())
            columns=&["Id", "Owner", "Name", "Account", "Status"]
            row=|c: ConnectionRow| view! {
                <td>{c.id}</td>
                <td>{c.owner}</td>
                <td>{c.name}</td>
                <td><code>{c.account_id.unwrap_or_default()}</code></td>
                <td>{c.status}{c.trust_warning.then_some(" · open trust")}</td>
            }/>
        <AdminTable title="Audit log: every role assumption and connection change, newest first"
            rows=Resource::new(|| (), |_| audit_log())
            columns=&["When", "Who", "Connection", "Action", "Outcome", "AWS request"]
            row=|e: AuditEntry| view! {
                <td><time datetime=e.at.clone()>{e.at.get(..19).unwrap_or_default().replace('T', " ")}</time></td>
                <td>{e.actor.unwrap_or_else(|| "—".into())}</td>
                <td>{e.connection_id.map(|c| c.to_string()).unwrap_or_default()}</td>
                <td><code>{e.action}</code></td>
                <td>{e.outcome}</td>
                <td><code>{e.aws_request_id.unwrap_or_default()}</code></td>
            }/>
    }
}

/// "Make admin" or "Remove admin": a plain form, so it works before hydration too.
#[component]
fn RoleForm(email: String, is_admin: bool) -> impl IntoView {
    let label = if is_admin {
        "Remove admin"
    } else {
        "Make admin"
    };
    view! {
        <form method="post" action=SetAdmin::PATH class="inline">
            <input type="hidden" name="email" value=email/>
            <input type="hidden" name="admin" value=(!is_admin).to_string()/>
            <button type="submit" class="link">{label}</button>
        </form>
    }
}

/// One titled table of rows loaded by a server function.
#[component]
fn AdminTable<T, F, V>(
    title: &'static str,
    rows: Resource<Result<Vec<T>, AppError>>,
    columns: &'static [&'static str],
    row: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <section class="card">
            <h2>{title}</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let row = row.clone();
                    Suspend::new(async move {
                        match rows.await {
                            Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                            Ok(list) => view! {
                                <div class="table-wrap">
                                    <table>
                                        <thead><tr>{columns.iter().map(|c| view! { <th>{*c}</th> }).collect_view()}</tr></thead>
                                        <tbody>{list.into_iter().map(|item| view! { <tr>{row(item)}</tr> }).collect_view()}</tbody>
                                    </table>
                                </div>
                            }.into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
    }
}
