//! Notices: what Crossview tells an account about itself (a sign-in from a new browser, a factor
//! added or removed, a connection disabled, re-checked or deleted by an administrator, an
//! invitation, a share link opened), listed here; `notify` writes them and, with a mail server,
//! emails them too.

#[cfg(feature = "ssr")]
mod ssr;

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::call;
use crate::{error::AppError, format::minutes_utc, forms::error_from_query, ui::ErrorNotice};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: i64,
    pub subject: String,
    /// Paragraphs, separated by a blank line.
    pub body: String,
    /// A label and a path inside Crossview.
    pub link: Option<(String, String)>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub read: bool,
}

/// The signed-in account's notices, newest first.
#[server(endpoint = "notices")]
pub async fn list_notices() -> Result<Vec<Notice>, AppError> {
    call::signed_in(async |cx| ssr::list(cx.pool(), cx.user.id).await).await
}

/// How many notices the signed-in account has not read: counted when this request read its
/// session, so that every page's header costs no query of its own.
#[server(endpoint = "notices_unread")]
pub async fn unread_notices() -> Result<i64, AppError> {
    call::signed_in(async |cx| Ok(cx.user.unread_notices)).await
}

/// Marks the account's notices read, up to `last`, the newest on the page that was read.
#[server(endpoint = "notices_read")]
pub async fn read_notices(last: i64) -> Result<(), AppError> {
    call::form("/notices")
        .signed_in(async |cx| {
            ssr::mark_read(cx.pool(), cx.user.id, last).await?;
            call::redirect("/notices");
            Ok(())
        })
        .await
}

/// "Notices" in the navigation, with the unread count.
#[component]
pub fn NoticesLink() -> impl IntoView {
    let unread = Resource::new(|| (), |_| unread_notices());
    view! {
        <A href="/notices">
            "Notices"
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    unread.await.ok().filter(|n| *n > 0).map(|n| view! {
                        " "<span class="count" aria-label=format!("{n} unread")>{n}</span>
                    })
                })}
            </Transition>
        </A>
    }
}

#[component]
pub fn NoticesPage() -> impl IntoView {
    let notices = Resource::new(|| (), |_| list_notices());
    view! {
        <Title text="Notices"/>
        <h1>"Notices"</h1>
        <ErrorNotice error=error_from_query()/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match notices.await {
                    Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"Nothing yet. Crossview tells you here (and by email, where it sends email) about sign-ins from a new browser, changes to your sign-in factors, what an administrator does to your connections, invitations, and share links opened, when you ask."</p>
                    }.into_any(),
                    Ok(list) => {
                        let newest_unread = list.iter().find(|n| !n.read).map(|_| list[0].id);
                        view! {
                            {newest_unread.map(|last| view! {
                                <form method="post" action=ReadNotices::PATH class="inline">
                                    <input type="hidden" name="last" value=last/>
                                    <button type="submit">"Mark all as read"</button>
                                </form>
                            })}
                            <ul class="notices">
                                {list.into_iter().map(|n| view! { <NoticeItem notice=n/> }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn NoticeItem(notice: Notice) -> impl IntoView {
    let class = if notice.read {
        "card notice-item"
    } else {
        "card notice-item unread"
    };
    view! {
        <li class=class>
            <h2>{notice.subject}{(!notice.read).then(|| view! { " "<span class="badge warning">"New"</span> })}</h2>
            <p class="muted">{minutes_utc(&notice.created_at)}</p>
            {notice.body.split("\n\n").map(|p| view! { <p>{p.to_owned()}</p> }).collect_view()}
            {notice.link.map(|(label, path)| view! { <p><a href=path>{label}</a></p> })}
        </li>
    }
}
