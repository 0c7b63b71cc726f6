//! Making a share link (on an object's page) and the list of one's links, with revoke.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;

use super::{create_share, list_shares};
use crate::{
    error::AppError,
    format::{human_size, minutes},
    forms::error_from_query,
    location::{folder_href, object_href},
    ui::{site_origin, CopyButton, ErrorNotice},
};

/// The lifetimes offered, in hours, up to `max_days`; and "Until revoked" where allowed.
fn lifetimes(limits: super::LinkLifetimes) -> Vec<(String, &'static str)> {
    let mut offered: Vec<(String, &'static str)> = [
        (1, "1 hour"),
        (24, "1 day"),
        (72, "3 days"),
        (168, "7 days"),
        (720, "30 days"),
        (2160, "90 days"),
        (8760, "1 year"),
    ]
    .into_iter()
    .filter(|(hours, _)| *hours <= limits.max_days * 24)
    .map(|(hours, label)| (hours.to_string(), label))
    .collect();
    if limits.no_expiry {
        offered.push(("never".into(), "until revoked"));
    }
    offered
}

/// "Share": how long, and optionally a password, a download limit, the networks it opens
/// from; then a link to copy and its QR code.
#[component]
pub fn ShareForm(connection: i64, bucket: String, key: String) -> impl IntoView {
    let limits = Resource::new(|| (), |_| super::share_limits());
    let hours = RwSignal::new("24".to_owned());
    let notify = RwSignal::new(false);
    let password = RwSignal::new(String::new());
    let downloads = RwSignal::new(String::new());
    let networks = RwSignal::new(String::new());
    let people = RwSignal::new(String::new());
    let what = match key.ends_with('/') {
        true => "Anyone with the link can list and download what is in this folder for",
        false => "Anyone with the link can download this object for",
    };
    let place = StoredValue::new((bucket, key));
    let make = Action::new(move |rules: &super::ShareRules| {
        let (bucket, key) = place.get_value();
        let rules = rules.clone();
        async move { create_share(connection, bucket, key, rules).await }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let limit = downloads.get_untracked();
        let rules = super::ShareRules {
            hours: hours.get_untracked().parse().ok(),
            password: Some(password.get_untracked()).filter(|p| !p.is_empty()),
            // A typed limit that is not a number is sent as 0, which the server refuses.
            max_downloads: (!limit.trim().is_empty()).then(|| limit.trim().parse().unwrap_or(0)),
            networks: vec![networks.get_untracked()],
            people: vec![people.get_untracked()],
            notify: notify.get_untracked(),
        };
        make.dispatch(rules);
    };
    let made = move || make.value().get();
    view! {
        <section class="card share" aria-label="Share">
            <form class="share-form" data-step-up="" on:submit=submit>
                <p>
                    <label for="share-hours">{what}</label>" "
                    <Suspense fallback=|| view! { <span class="muted">"…"</span> }>
                        {move || Suspend::new(async move {
                            let offered = limits.await.map(lifetimes).unwrap_or_default();
                            view! {
                                <select id="share-hours" on:change=move |ev| hours.set(event_target_value(&ev))>
                                    {offered.into_iter().map(|(value, label)| {
                                        let selected = value == "24";
                                        view! { <option value=value selected=selected>{label}</option> }
                                    }).collect_view()}
                                </select>
                            }
                        })}
                    </Suspense>
                </p>
                <details class="share-rules">
                    <summary>"Password, download limit, networks, people"</summary>
                    <p>
                        <label for="share-password">"Password (8 or more characters; optional)"</label>
                        <input id="share-password" type="password" autocomplete="new-password" minlength="8" maxlength="200"
                            on:input=move |ev| password.set(event_target_value(&ev))/>
                    </p>
                    <p>
                        <label for="share-downloads">"Stop after this many downloads (optional)"</label>
                        <input id="share-downloads" type="number" min="1" max="100000" inputmode="numeric"
                            on:input=move |ev| downloads.set(event_target_value(&ev))/>
                    </p>
                    <p>
                        <label for="share-networks">"Only from these networks (addresses or CIDR blocks, one a line; optional)"</label>
                        <textarea id="share-networks" rows="2" placeholder="203.0.113.0/24"
                            on:input=move |ev| networks.set(event_target_value(&ev))></textarea>
                    </p>
                    <p>
                        <label for="share-people">"Only these people, who sign in to Crossview to open it (email addresses, one a line; optional)"</label>
                        <textarea id="share-people" rows="2" placeholder="ana@example.com"
                            on:input=move |ev| people.set(event_target_value(&ev))></textarea>
                    </p>
                </details>
                <label class="check">
                    <input type="checkbox" on:change=move |ev| notify.set(event_target_checked(&ev))/>
                    "Tell me when it is opened"
                </label>
                <button type="submit" disabled=move || make.pending().get()>"Create share link"</button>
            </form>
            {move || made().map(|result| match result {
                Ok(link) => {
                    let url = format!("{}{}", site_origin(), link.path);
                    let until = match &link.expires_at {
                        Some(at) => format!("Works until {} UTC.", minutes(at)),
                        None => "Works until you revoke it.".to_owned(),
                    };
                    view! {
                        <p class="share-link">
                            <code>{url.clone()}</code>" "<CopyButton text=url label="Copy the share link"/>
                        </p>
                        <div class="qr" role="img" aria-label="The link as a QR code" inner_html=link.qr_svg></div>
                        <p class="muted">{until}" Manage your links under Shared links."</p>
                    }.into_any()
                }
                Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
            })}
        </section>
    }
}

/// Where a link's object (or folder) is in the app.
fn place_href(l: &super::ShareLink) -> String {
    match l.key.ends_with('/') {
        true => folder_href(l.connection, &l.bucket, &l.key),
        false => object_href(l.connection, &l.bucket, &l.key),
    }
}

/// What a link asks of its visitors, in a few words.
fn rules_of(l: &super::ShareLink) -> String {
    let mut rules = Vec::new();
    if l.password {
        rules.push("password".to_owned());
    }
    match l.max_downloads {
        Some(max) => rules.push(format!("{} of {max} downloads", l.downloads)),
        None if l.downloads > 0 => rules.push(format!("{} downloads", l.downloads)),
        None => {}
    }
    if !l.networks.is_empty() {
        rules.push(format!("from {}", l.networks.join(", ")));
    }
    if !l.people.is_empty() {
        rules.push(format!("for {}", l.people.join(", ")));
    }
    if l.notify {
        rules.push("tells you when opened".to_owned());
    }
    match rules.is_empty() {
        true => "—".to_owned(),
        false => rules.join(" · "),
    }
}

/// The user's share links, with their state and rules, a new deadline for those not revoked,
/// and a revoke button for those still working.
#[component]
pub fn SharesPage() -> impl IntoView {
    let links = Resource::new(|| (), |_| list_shares());
    let limits = Resource::new(|| (), |_| super::share_limits());
    let error = error_from_query();
    view! {
        <Title text="Shared links"/>
        <h1>"Shared links"</h1>
        <ErrorNotice error=error/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let offered = limits.await.map(lifetimes).unwrap_or_default();
                match links.await {
                    Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                    Ok(links) if links.is_empty() => view! {
                        <p class="muted">"No links yet. Open an object and choose Create share link."</p>
                    }.into_any(),
                    Ok(links) => view! {
                        <section class="card table-wrap">
                            <table class="listing">
                                <thead><tr><th>"Object"</th><th>"Created"</th><th>"Expires"</th><th>"Rules"</th><th>"State"</th><th><span class="visually-hidden">"Revoke"</span></th></tr></thead>
                                <tbody>
                                    {links.into_iter().map(|l| {
                                        let spent = l.max_downloads.is_some_and(|m| l.downloads >= m);
                                        let state = match (l.revoked, l.expired, spent) {
                                            (true, _, _) => "Revoked",
                                            (false, true, _) => "Expired",
                                            (false, false, true) => "Downloads used",
                                            (false, false, false) => "Active",
                                        };
                                        let until = l.expires_at.as_deref().map_or("Never".to_owned(), minutes);
                                        let offered = offered.clone();
                                        view! {
                                            <tr>
                                                <td><a href=place_href(&l)>{format!("{}/{}", l.bucket, l.key)}</a></td>
                                                <td>{minutes(&l.created_at)}</td>
                                                <td>
                                                    {until}
                                                    {(!l.revoked).then(|| view! {
                                                        <form method="post" action=super::ChangeShareExpiry::PATH class="inline-form">
                                                            <input type="hidden" name="id" value=l.id.to_string()/>
                                                            <label class="visually-hidden" for=format!("expiry-{}", l.id)>"New deadline"</label>
                                                            <select name="hours" id=format!("expiry-{}", l.id)>
                                                                {offered.into_iter().map(|(value, label)| view! {
                                                                    <option value=value>{format!("{label} from now")}</option>
                                                                }).collect_view()}
                                                            </select>
                                                            <button type="submit" class="link">"Change"</button>
                                                        </form>
                                                    })}
                                                </td>
                                                <td>{rules_of(&l)}</td>
                                                <td>{state}</td>
                                                <td>{(!l.revoked).then(|| view! {
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
    let until = file
        .expires_at
        .as_deref()
        .map_or("Until revoked".to_owned(), |at| {
            format!("{} UTC", minutes(at))
        });
    let gone = match file.status {
        LinkStatus::Live | LinkStatus::SignIn => None,
        LinkStatus::Revoked => Some("This link was revoked: the file is no longer shared."),
        LinkStatus::Expired => Some("This link has expired."),
        LinkStatus::Spent => Some("This link has handed out all its downloads."),
        LinkStatus::Elsewhere => Some("This link does not open from your network."),
        LinkStatus::NotForYou => Some("This link is shared with other people than the account you are signed in with. Sign in with the address it was shared with, or ask whoever shared it."),
    };
    let error = error_from_query();
    let download = format!("/s/{token}/download");
    let sign_in = crate::location::with_query("/sign-in", "next", &format!("/s/{token}"));
    let unlock = format!("/s/{token}/unlock");
    view! {
        <h1 class="object-name">{file.name.clone()}{file.folder.then_some("/")}</h1>
        <dl class="facts">
            {(!file.folder).then(|| view! {
                <dt>"Size"</dt><dd>{file.size.map(|s| human_size(s.unsigned_abs())).unwrap_or_else(|| "—".into())}</dd>
                <dt>"Type"</dt><dd>{file.content_type.clone().unwrap_or_else(|| "—".into())}</dd>
            })}
            <dt>"Shared by"</dt><dd>{file.shared_by.clone()}</dd>
            <dt>{if gone.is_some() { "Was shared until" } else { "Shared until" }}</dt><dd>{until}</dd>
            {file.downloads_left.map(|n| view! { <dt>"Downloads left"</dt><dd>{n.to_string()}</dd> })}
        </dl>
        {match (gone, file.password) {
            (Some(why), _) => view! { <p class="notice error" role="alert">{why}</p> }.into_any(),
            (None, _) if file.status == LinkStatus::SignIn => view! {
                <p>"This is shared with named people. Sign in to Crossview with the address it was shared with to open it."</p>
                <p><a class="button primary" href=sign_in rel="nofollow">"Sign in to download"</a></p>
            }.into_any(),
            (None, true) if file.folder => view! {
                <ErrorNotice error=error/>
                <form method="post" action=unlock class="stack">
                    <label for="share-password">"Password"</label>
                    <input id="share-password" name="password" type="password" required autocomplete="off"/>
                    <button type="submit" class="primary">"Open the folder"</button>
                </form>
            }.into_any(),
            (None, false) if file.folder => view! {
                <ErrorNotice error=error/>
                <super::folder::SharedFolder token=token.clone() name=file.name.clone()/>
            }.into_any(),
            (None, true) => view! {
                <ErrorNotice error=error/>
                <form method="post" action=download class="stack">
                    <label for="share-password">"Password"</label>
                    <input id="share-password" name="password" type="password" required autocomplete="off"/>
                    <button type="submit" class="primary">"Download"</button>
                </form>
                <p class="muted">"The file comes straight from its storage."</p>
            }.into_any(),
            (None, false) => view! {
                <ErrorNotice error=error/>
                <p><a class="button primary" href=download rel="external nofollow">"Download"</a></p>
                <p class="muted">"The file comes straight from its storage; the download link works for a few minutes."</p>
            }.into_any(),
        }}
    }
}
