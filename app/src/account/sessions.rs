//! The account's signed-in sessions: where and how each signed in and when it was last used,
//! and signing out one of them or every other.

use leptos::{prelude::*, server_fn::ServerFn};

#[cfg(feature = "ssr")]
use crate::{auth::ssr, call};
use crate::{
    auth::SessionInfo, error::AppError, format::minutes_utc, forms::section_error, ui::ErrorNotice,
    url::use_query,
};

#[cfg(feature = "ssr")]
const SECTION: &str = "/account?section=sessions";

#[server(endpoint = "my_sessions")]
pub async fn my_sessions() -> Result<Vec<SessionInfo>, AppError> {
    call::signed_in(async |cx| {
        let auth = ssr::auth_session().await?;
        ssr::of_user(cx.pool(), cx.user.id, ssr::session_id(&auth).as_deref()).await
    })
    .await
}

/// Signs out one other session (`handle`: its digest from the list), or every other session.
#[server(endpoint = "session_end")]
pub async fn session_end(#[server(default)] handle: String) -> Result<(), AppError> {
    call::form(SECTION)
        .signed_in(async |cx| {
            let auth = ssr::auth_session().await?;
            let current = ssr::session_id(&auth).unwrap_or_default();
            let ended = match handle.is_empty() {
                true => ssr::end_others(cx.pool(), cx.user.id, &current).await?,
                false => u64::from(ssr::end(cx.pool(), cx.user.id, &handle, &current).await?),
            };
            if ended == 0 && !handle.is_empty() {
                return Err(AppError::NotFound);
            }
            ssr::record_session_end(cx.pool(), cx.user.id, ended).await?;
            call::redirect(&format!("/account?ended={ended}#sessions"));
            Ok(())
        })
        .await
}

/// The account page's list of sessions.
#[component]
pub fn SessionsSection() -> impl IntoView {
    let query = use_query();
    let sessions = Resource::new(|| (), |_| my_sessions());
    let ended = move || {
        query.read().get("ended").map(|n| match n {
            "1" => "Signed out 1 session.".to_owned(),
            n => format!("Signed out {n} sessions."),
        })
    };
    view! {
        <section class="card narrow" id="sessions">
            <h2>"Where you are signed in"</h2>
            {move || ended().map(|text| view! { <p class="notice success" role="status">{text}</p> })}
            <ErrorNotice error=section_error(Some("sessions"))/>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(list) => {
                            let others = list.iter().filter(|s| !s.current).count();
                            view! {
                                <ul class="sessions">
                                    {list.into_iter().map(|s| view! { <SessionRow session=s/> }).collect_view()}
                                </ul>
                                <Show when=move || { others > 0 }>
                                    <form method="post" action=SessionEnd::PATH>
                                        <button type="submit">"Sign out all other sessions"</button>
                                    </form>
                                </Show>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn SessionRow(session: SessionInfo) -> impl IntoView {
    let method = session
        .method
        .clone()
        .unwrap_or_else(|| "password".to_owned());
    let signed_in = session.signed_in_at.as_deref().map(minutes_utc);
    view! {
        <li class="session">
            <div>
                <strong>{session.browser.clone()}</strong>
                {session.current.then(|| view! { <span class="badge ok">"This browser"</span> })}
                <p class="muted">
                    {session.address.clone().map(|a| format!("From {a} · "))}
                    {signed_in.map(|t| format!("signed in {t} with {method} · "))}
                    {format!("last used {}", minutes_utc(&session.last_seen))}
                </p>
            </div>
            {(!session.current).then(|| view! {
                <form method="post" action=SessionEnd::PATH>
                    <input type="hidden" name="handle" value=session.handle.clone()/>
                    <button type="submit" class="link">"Sign out"</button>
                </form>
            })}
        </li>
    }
}
