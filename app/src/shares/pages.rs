//! Making a share link (on an object's page) and the list of one's links, with revoke.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;

use super::{create_share, list_shares};
use crate::{
    error::AppError,
    format::{human_size, minutes},
    forms::error_from_query,
    location::object_href,
    ui::{site_origin, CopyButton, ErrorNotice},
};

/// "Share": pick how long, get a link to copy.
#[component]
pub fn ShareForm(connection: i64, bucket: String, key: String) -> impl IntoView {
    let hours = RwSignal::new(24u32);
    let notify = RwSignal::new(false);
    let place = StoredValue::new((bucket, key));
    let make = Action::new(move |&(hours, notify): &(u32, bool)| {
        let (bucket, key) = place.get_value();
        async move { create_share(connection, bucket, key, hours, notify).await }
    });
    let made = move || make.value().get();
    view! {
        <section class="card share" aria-label="Share">
            <form class="inline-form" data-step-up="" on:submit=move |ev| { ev.prevent_default(); make.dispatch((hours.get_untracked(), notify.get_untracked())); }>
                <label for="share-hours">"Anyone with the link can download this object for"</label>
                <select id="share-hours" on:change=move |ev| hours.set(event_target_value(&ev).parse().unwrap_or(24))>
                    <option value="1">"1 hour"</option>
                    <option value="24" selected>"1 day"</option>
                    <option value="72">"3 days"</option>
                    <option value="168">"7 days"</option>
                </select>
                <label class="check">
                    <input type="checkbox" on:change=move |ev| notify.set(event_target_checked(&ev))/>
                    "Tell me when it is opened"
                </label>
                <button type="submit" disabled=move || make.pending().get()>"Create share link"</button>
            </form>
            {move || made().map(|result| match result {
                Ok(link) => {
                    let url = format!("{}{}", site_origin(), link.path);
                    view! {
                        <p class="share-link">
                            <code>{url.clone()}</code>" "<CopyButton text=url label="Copy the share link"/>
                        </p>
                        <p class="muted">{format!("Works until {} UTC. Manage your links under Shared links.", minutes(&link.expires_at))}</p>
                    }.into_any()
                }
                Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
            })}
        </section>
    }
}

/// The user's share links, with their state and a revoke button for those still working.
#[component]
pub fn SharesPage() -> impl IntoView {
    let links = Resource::new(|| (), |_| list_shares());
    let error = error_from_query();
    view! {
        <Title text="Shared links"/>
        <h1>"Shared links"</h1>
        <ErrorNotice error=error/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match links.await {
                    Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                    Ok(links) if links.is_empty() => view! {
                        <p class="muted">"No links yet. Open an object and choose Create share link."</p>
                    }.into_any(),
                    Ok(links) => view! {
                        <section class="card table-wrap">
                            <table class="listing">
                                <thead><tr><th>"Object"</th><th>"Created"</th><th>"Expires"</th><th>"State"</th><th><span class="visually-hidden">"Revoke"</span></th></tr></thead>
                                <tbody>
                                    {links.into_iter().map(|l| {
                                        let state = match (l.revoked, l.expired) {
                                            (true, _) => "Revoked",
                                            (false, true) => "Expired",
                                            (false, false) => "Active",
                                        };
                                        view! {
                                            <tr>
                                                <td><a href=object_href(l.connection, &l.bucket, &l.key)>{format!("{}/{}", l.bucket, l.key)}</a></td>
                                                <td>{minutes(&l.created_at)}</td>
                                                <td>{minutes(&l.expires_at)}</td>
                                                <td>{state}{l.notify.then_some(" · tells you when opened")}</td>
                                                <td>{(state == "Active").then(|| view! {
                                                    <form method="post" action=super::RevokeShare::PATH>
                                                        <input type="hidden" name="id" value=l.id.to_string()/>
                                                        <button type="submit" class="link">"Revoke"</button>
                                                    </form>
                                                })}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `/s/<token>`: what was shared, by whom and until when, and a Download button; the bytes come
/// straight from S3 (the button's address answers with a fresh presigned URL). Rendered before
/// it is sent, so it works without script.
#[component]
pub fn SharePage() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let file = Resource::new_blocking(token, super::share_landing);
    view! {
        <Title text="Shared file"/>
        <main class="auth">
            <section class="card auth-card shared-file">
                <p class="brand">"Crossview"</p>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match file.await {
                            Err(AppError::NotFound) => view! {
                                <h1>"This link does not work"</h1>
                                <p>"No file is shared under this link. Check that it was copied whole."</p>
                            }.into_any(),
                            Err(err) => view! { <h1>"This link does not work"</h1><ErrorNotice error=Some(err)/> }.into_any(),
                            Ok(f) => view! { <SharedFileView file=f token=token()/> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </main>
    }
}

#[component]
fn SharedFileView(file: super::SharedFile, token: String) -> impl IntoView {
    use super::LinkStatus;
    let until = format!("{} UTC", minutes(&file.expires_at));
    let gone = match file.status {
        LinkStatus::Live => None,
        LinkStatus::Revoked => Some("This link was revoked: the file is no longer shared."),
        LinkStatus::Expired => Some("This link has expired."),
    };
    view! {
        <h1 class="object-name">{file.name.clone()}</h1>
        <dl class="facts">
            <dt>"Size"</dt><dd>{file.size.map(|s| human_size(s.unsigned_abs())).unwrap_or_else(|| "—".into())}</dd>
            <dt>"Type"</dt><dd>{file.content_type.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Shared by"</dt><dd>{file.shared_by.clone()}</dd>
            <dt>{if gone.is_some() { "Was shared until" } else { "Shared until" }}</dt><dd>{until}</dd>
        </dl>
        {match gone {
            Some(why) => view! { <p class="notice error" role="alert">{why}</p> }.into_any(),
            None => view! {
                <p><a class="button primary" href=format!("/s/{token}/download") rel="external nofollow">"Download"</a></p>
                <p class="muted">"The file comes straight from its storage; the download link works for a few minutes."</p>
            }.into_any(),
        }}
    }
}
