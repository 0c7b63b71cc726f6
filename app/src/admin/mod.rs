//! Administration: every user of the deployment.

#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{error::AppError, ui::ErrorNotice};

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
    let auth = crate::auth::ssr::auth_session().await?;
    let user = auth.user.ok_or(AppError::Unauthorized)?;
    if !user.is_admin {
        return Err(AppError::Forbidden);
    }
    ssr::list_users(&crate::state::AppState::current().pool).await
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users());
    view! {
        <Title text="Admin"/>
        <h1>"Admin"</h1>
        <section class="card">
            <h2>"Users"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading users…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(rows) => view! {
                            <div class="table-wrap">
                                <table>
                                    <thead><tr><th>"Email"</th><th>"Role"</th><th>"Status"</th><th>"Created"</th></tr></thead>
                                    <tbody>
                                        {rows.into_iter().map(|u| view! {
                                            <tr>
                                                <td>{u.email}</td>
                                                <td>{if u.is_admin { "Admin" } else { "User" }}</td>
                                                <td>{if u.disabled { "Disabled" } else { "Active" }}</td>
                                                <td><time datetime=u.created_at.clone()>{u.created_at.get(..10).unwrap_or_default().to_owned()}</time></td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
