//! Users: the list with search and paging, and one user's page with the actions on them.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::components::A;

use super::{
    audit::AuditResults, connections::ConnectionsTable, get_user, list_connections, list_users,
    user_href, when, AdminNav, ConnectionQuery, IssueResetLink, NextPage, SetAdmin,
    SetUserDisabled, ToggleForm, UserQuery, UserRow,
};
use crate::{
    audit::AuditFilter,
    forms::error_from_query,
    ui::ErrorNotice,
    url::{encode_component, load_by_id, use_query},
};

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let query = use_query();
    let search = Memo::new(move |_| {
        let q = query.read();
        UserQuery {
            email: q.get("email").unwrap_or_default().to_owned(),
            after: q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0),
        }
    });
    let users = Resource::new(move || search.get(), list_users);
    view! {
        <Title text="Users · Admin"/>
        <h1>"Users"</h1>
        <AdminNav/>
        <form method="get" action="/admin/users" class="filters" role="search">
            <label>"Email contains"
                <input type="search" name="email" value=move || search.read().email.clone()/>
            </label>
            <button type="submit">"Search"</button>
        </form>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                    Ok(page) => {
                        let email = search.read_untracked().email.clone();
                        let next = page.next.map(|after| {
                            format!("/admin/users?email={}&after={after}", encode_component(&email))
                        });
                        view! {
                            <div class="table-wrap"><table class="wide">
                                <thead><tr>
                                    <th>"Email"</th><th>"Role"</th><th>"Status"</th>
                                    <th>"Created"</th><th>"Last sign-in"</th><th>"Connections"</th>
                                </tr></thead>
                                <tbody>{page.rows.into_iter().map(|u| {
                                    let email = u.email.clone();
                                    view! {
                                    <tr>
                                        <td><A href=user_href(u.id)>{email}</A></td>
                                        <td>{role(&u)}</td>
                                        <td>{status(&u)}</td>
                                        <td>{when(Some(&u.created_at))}</td>
                                        <td>{when(u.last_sign_in_at.as_deref())}</td>
                                        <td>{u.connections}</td>
                                    </tr>
                                }}).collect_view()}</tbody>
                            </table></div>
                            <NextPage href=next/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

fn role(u: &UserRow) -> &'static str {
    if u.is_admin {
        "Admin"
    } else {
        "User"
    }
}

fn status(u: &UserRow) -> &'static str {
    if u.disabled {
        "Disabled"
    } else {
        "Active"
    }
}

/// One user: who they are, the actions on them, their connections and their recent activity.
#[component]
pub fn AdminUserPage() -> impl IntoView {
    let user = load_by_id(get_user);
    view! {
        <Title text="User · Admin"/>
        <AdminNav/>
        <ErrorNotice error=error_from_query()/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                    Ok(u) => view! { <UserView user=u/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn UserView(user: UserRow) -> impl IntoView {
    let connections = Resource::new(
        move || user.id,
        |owner| {
            list_connections(ConnectionQuery {
                owner_id: Some(owner),
                ..ConnectionQuery::default()
            })
        },
    );
    let activity = AuditFilter {
        actor: user.email.clone(),
        ..AuditFilter::default()
    };
    view! {
        <h1>{user.email.clone()}</h1>
        <dl class="facts">
            <dt>"Role"</dt><dd>{role(&user)}</dd>
            <dt>"Status"</dt><dd>{status(&user)}</dd>
            <dt>"Created"</dt><dd>{when(Some(&user.created_at))}</dd>
            <dt>"Last sign-in"</dt><dd>{when(user.last_sign_in_at.as_deref())}</dd>
        </dl>
        <div class="actions">
            <ToggleForm action=SetAdmin::PATH id=user.id field="admin" value=!user.is_admin
                label=if user.is_admin { "Remove admin" } else { "Make admin" }/>
            <ToggleForm action=SetUserDisabled::PATH id=user.id field="disabled" value=!user.disabled
                label=if user.disabled { "Enable user" } else { "Disable user" }/>
        </div>
        <ResetLink id=user.id/>
        <section class="card">
            <h2>"Connections"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match connections.await {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(page) => view! { <ConnectionsTable rows=page.rows/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section class="card">
            <h2>"Recent activity"</h2>
            <AuditResults filter=activity/>
        </section>
    }
}

/// "Issue a password reset link", and the link, shown once: it sets a new password within an
/// hour, once; the admin hands it over.
#[component]
fn ResetLink(id: i64) -> impl IntoView {
    let issue = ServerAction::<IssueResetLink>::new();
    view! {
        <ActionForm action=issue attr:class="inline reset-link" attr:data-step-up="">
            <input type="hidden" name="id" value=id/>
            <button type="submit" disabled=move || issue.pending().get()>"Issue a password reset link"</button>
        </ActionForm>
        {move || issue.value().get().map(|result| match result {
            Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
            Ok(path) => {
                let link = window().location().origin().unwrap_or_default() + &path;
                view! {
                    <p class="notice" role="status">
                        "Shown only now: hand this link to them. It sets a new password once, within an hour, and ends their sessions. "
                        <code class="reset-url">{link}</code>
                    </p>
                }.into_any()
            }
        })}
    }
}
