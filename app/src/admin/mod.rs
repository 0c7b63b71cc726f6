//! Administration: users, connections and the audit trail, with the actions an administrator
//! takes on them. Every page and server function here is for administrators only (403 for
//! anyone else); every action is audited with the admin as actor.

mod audit;
mod connections;
#[cfg(feature = "ssr")]
pub mod ssr;
mod users;

pub use audit::AuditTrailPage;
pub use connections::{AdminConnectionPage, AdminConnectionsPage};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};
pub use users::{AdminUserPage, AdminUsersPage};

#[cfg(feature = "ssr")]
use crate::call;
use crate::{
    audit::{AuditFilter, AuditPage, ChainReport},
    connections::Status,
    error::AppError,
    format::minutes_utc,
    ui::ErrorNotice,
};

/// A page of a list, by id, and the id the next page starts after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListPage<T> {
    pub rows: Vec<T>,
    pub next: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserQuery {
    /// Part of the email, any case.
    pub email: String,
    pub after: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
    pub disabled: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub last_sign_in_at: Option<String>,
    pub connections: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionQuery {
    /// The owner's email, exactly (any case).
    pub owner: String,
    pub owner_id: Option<i64>,
    pub account: String,
    /// pending, verified, failed or disabled.
    pub status: String,
    pub after: i64,
}

/// A connection as an admin sees it: whose it is, its state and its use, never anything AWS
/// issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRow {
    pub id: i64,
    pub owner_id: i64,
    pub owner: String,
    pub name: String,
    pub account_id: Option<String>,
    pub role_arn: Option<String>,
    pub status: Status,
    pub trust_warning: bool,
    pub last_verified_at: Option<String>,
    pub last_used_at: Option<String>,
    pub assumptions_24h: i64,
    pub refusals_24h: i64,
    /// The connection doctor's last run.
    pub checkup: Option<crate::connections::doctor::Checkup>,
}

/// Anonymous junk of one kind on one day: counted, never logged row by row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JunkCount {
    pub day: String,
    pub kind: String,
    pub n: i64,
}

#[server(endpoint = "admin_users")]
pub async fn list_users(
    #[server(default)] query: UserQuery,
) -> Result<ListPage<UserRow>, AppError> {
    call::admin(async |cx| ssr::users(cx.pool(), &query).await).await
}

#[server(endpoint = "admin_user")]
pub async fn get_user(id: i64) -> Result<UserRow, AppError> {
    call::admin(async |cx| ssr::user(cx.pool(), id).await).await
}

#[server(endpoint = "admin_connections")]
pub async fn list_connections(
    #[server(default)] query: ConnectionQuery,
) -> Result<ListPage<ConnectionRow>, AppError> {
    call::admin(async |cx| ssr::connections(cx.pool(), &query).await).await
}

#[server(endpoint = "admin_connection")]
pub async fn get_connection(id: i64) -> Result<ConnectionRow, AppError> {
    call::admin(async |cx| ssr::connection(cx.pool(), id).await).await
}

#[server(endpoint = "admin_audit")]
pub async fn search_audit(#[server(default)] filter: AuditFilter) -> Result<AuditPage, AppError> {
    call::admin(async |cx| crate::audit::ssr::search(cx.pool(), &filter).await).await
}

#[server(endpoint = "admin_junk")]
pub async fn junk_counts() -> Result<Vec<JunkCount>, AppError> {
    call::admin(async |cx| ssr::junk(cx.pool()).await).await
}

/// Walks the whole chain (audited, with what it found).
#[server(endpoint = "admin_audit_verify")]
pub async fn verify_chain() -> Result<ChainReport, AppError> {
    call::admin(async |cx| {
        crate::audit::ssr::verify_audited(cx.pool(), Some(cx.user.id), &[]).await
    })
    .await
}

/// Issues a one-time link that sets a new password for the user (audited), and returns its
/// path: the page shows it this once, for the admin to hand over.
#[server(endpoint = "admin_reset_link")]
pub async fn issue_reset_link(id: i64) -> Result<String, AppError> {
    use crate::auth::ssr::{reset, Account};
    call::admin(async |cx| {
        call::fresh().await?;
        reset::issue(cx.pool(), Some(cx.user.id), Account::Id(id)).await
    })
    .await
}

/// Makes a user an administrator, or not (`admin`). The last active administrator stays one.
#[server(endpoint = "admin_set_admin")]
pub async fn set_admin(id: i64, admin: bool) -> Result<(), AppError> {
    use crate::auth::ssr::{change_user, Account, Change};
    call::form(user_href(id))
        .admin(async |cx| {
            change_user(
                cx.pool(),
                Some(cx.user.id),
                Account::Id(id),
                Change::Admin(admin),
            )
            .await?;
            call::redirect(&user_href(id));
            Ok(())
        })
        .await
}

/// Disables a user (their sessions end at once, their connections and share links stop) or
/// enables them again. The last active administrator cannot be disabled.
#[server(endpoint = "admin_set_user_disabled")]
pub async fn set_user_disabled(id: i64, disabled: bool) -> Result<(), AppError> {
    use crate::auth::ssr::{change_user, Account, Change};
    call::form(user_href(id))
        .admin(async |cx| {
            let change = Change::Disabled(disabled);
            change_user(cx.pool(), Some(cx.user.id), Account::Id(id), change).await?;
            call::redirect(&user_href(id));
            Ok(())
        })
        .await
}

/// The admin console's tabs.
#[component]
pub(crate) fn AdminNav() -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Administration">
            <A href="/admin" exact=true>"Overview"</A>
            <A href="/admin/users">"Users"</A>
            <A href="/admin/connections">"Connections"</A>
            <A href="/admin/audit">"Audit trail"</A>
        </nav>
    }
}

/// The console's front page: where to go, the chain check and the anonymous junk counts.
#[component]
pub fn AdminPage() -> impl IntoView {
    let junk = Resource::new(|| (), |_| junk_counts());
    view! {
        <Title text="Admin"/>
        <h1>"Admin"</h1>
        <AdminNav/>
        <section class="card">
            <h2>"Audit trail integrity"</h2>
            <p class="muted">"Each audit row carries a SHA-256 hash chained to the row before it. \
                Checking walks the whole trail and names the first row that was altered, \
                removed or inserted out of order."</p>
            <audit::ChainCheck/>
        </section>
        <section class="card">
            <h2>"Anonymous attempts, last 7 days"</h2>
            <p class="muted">"Failed sign-ins and share links that match nothing are counted, not logged."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match junk.await {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(rows) if rows.is_empty() => view! { <p>"None."</p> }.into_any(),
                        Ok(rows) => view! {
                            <div class="table-wrap"><table>
                                <thead><tr><th>"Day"</th><th>"What"</th><th>"Count"</th></tr></thead>
                                <tbody>{rows.into_iter().map(|r| view! {
                                    <tr><td>{r.day}</td><td>{junk_label(&r.kind)}</td><td>{r.n}</td></tr>
                                }).collect_view()}</tbody>
                            </table></div>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn junk_label(kind: &str) -> String {
    match kind {
        "sign_in.failed" => "Failed sign-ins".to_owned(),
        "share.unknown" => "Unknown share links".to_owned(),
        other => other.to_owned(),
    }
}

/// `/admin/users/<id>`.
pub fn user_href(id: i64) -> String {
    format!("/admin/users/{id}")
}

/// A one-button form posting `id` and `field=value` to a server function: works before
/// hydration, and an error comes back to this page as `?error=`.
#[component]
fn ToggleForm(
    action: &'static str,
    id: i64,
    field: &'static str,
    value: bool,
    label: &'static str,
) -> impl IntoView {
    view! {
        <form method="post" action=action class="inline" data-step-up="">
            <input type="hidden" name="id" value=id/>
            <input type="hidden" name=field value=value.to_string()/>
            <button type="submit" class="secondary">{label}</button>
        </form>
    }
}

/// A time for a table cell, or "never".
fn when(t: Option<&str>) -> String {
    t.map(minutes_utc).unwrap_or_else(|| "never".to_owned())
}

/// "Next page" to `href`, if there is a next page.
#[component]
fn NextPage(href: Option<String>) -> impl IntoView {
    href.map(|href| view! { <p><A href=href attr:class="button secondary">"Next page"</A></p> })
}
