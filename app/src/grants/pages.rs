//! The locations section of a connection's page (its owner's and the admin console's), and the
//! "Invitations" and "Shared with me" lists on the home page.

use leptos::{prelude::*, server_fn::ServerFn};

use super::{list_invitations, list_locations, shared_with_me, Grant, Location};
use crate::{
    format::minutes_utc, iam::mode, location::folder_href, ui::ErrorNotice, url::use_query,
};

/// Where a locations form goes back to: the owner's page of the connection, or the admin
/// console's; never anywhere else.
#[cfg(feature = "ssr")]
pub(super) fn back_to(back: &str, connection: i64) -> String {
    let admin = crate::location::admin_connection_href(connection);
    match back == admin {
        true => admin,
        false => format!("/connections/{connection}"),
    }
}

/// A connection's locations and who was granted them, with the forms that change both. `back`
/// is the page it is on.
#[component]
pub fn LocationsSection(connection: i64, back: String) -> impl IntoView {
    let locations = Resource::new(|| (), move |_| list_locations(connection));
    let back = StoredValue::new(back);
    view! {
        <section class="card" id="locations" aria-labelledby="locations-title">
            <h2 id="locations-title">"Locations"</h2>
            <p class="muted">
                "With no location, the connection reaches whatever its role reaches. With some, it reaches "
                "only those (for you too): each request's AWS session is fenced to the one it uses, read-only "
                "ones cannot change anything, and teammates you grant a location browse it without an AWS "
                "account of their own. In a prefix, " <code>"{user}"</code> " stands for each user's id: "
                <code>"uploads/users/{user}/"</code> " gives everyone their own folder."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading locations…"</p> }>
                {move || Suspend::new(async move {
                    match locations.await {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(list) => view! {
                            <LocationList connection list=list.clone() back=back.get_value()/>
                            <AddLocationForm connection back=back.get_value()/>
                            {(!list.is_empty()).then(|| view! {
                                <GrantForm connection list back=back.get_value()/>
                            })}
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn LocationList(connection: i64, list: Vec<Location>, back: String) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No locations: the connection is not restricted."</p> }
            .into_any();
    }
    view! {
        <table class="listing locations">
            <thead><tr><th>"Location"</th><th>"Access"</th><th>"Granted to"</th><th><span class="visually-hidden">"Revoke"</span></th></tr></thead>
            <tbody>
                {list.into_iter().map(|l| {
                    let back = back.clone();
                    view! {
                        <tr>
                            <td><a href=folder_href(connection, &l.bucket, &l.yours)
                                rel="external"><code>{l.uri()}</code></a></td>
                            <td>{mode(l.writable)}</td>
                            <td><GrantList connection grants=l.grants.clone() back=back.clone()/></td>
                            <td>
                                <ItemButton action=super::RemoveLocation::PATH connection id=l.id back
                                    label="Remove" aria=format!("Remove location {}", l.uri())/>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn GrantList(connection: i64, grants: Vec<Grant>, back: String) -> impl IntoView {
    if grants.is_empty() {
        return view! { <span class="muted">"nobody"</span> }.into_any();
    }
    view! {
        <ul class="grants">
            {grants.into_iter().map(|g| {
                let until = match (&g.expires_at, g.expired) {
                    (_, true) => " · expired".to_owned(),
                    (Some(t), false) => format!(" · until {}", minutes_utc(t)),
                    (None, false) => String::new(),
                };
                let invited = (!g.accepted).then_some(" · invited, not accepted yet");
                view! {
                    <li class="grant" data-accepted=g.accepted.to_string()>
                        <span>{g.grantee.clone()}</span>" ("{mode(g.writable)}{until}{invited}") "
                        <span class="muted">{g.granted_by.clone().map(|by| format!("granted by {by} "))}</span>
                        <ItemButton action=super::RevokeGrant::PATH connection id=g.id back=back.clone()
                            label="Revoke" aria=format!("Revoke {}'s grant", g.grantee)/>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// One button that posts `id` of this connection's locations or grants to `action` (remove,
/// revoke); `aria` names what it acts on.
#[component]
fn ItemButton(
    action: &'static str,
    connection: i64,
    id: i64,
    back: String,
    label: &'static str,
    aria: String,
) -> impl IntoView {
    view! {
        <form method="post" action=action class="inline">
            <input type="hidden" name="connection" value=connection.to_string()/>
            <input type="hidden" name="id" value=id.to_string()/>
            <input type="hidden" name="back" value=back/>
            <button type="submit" class="link danger" aria-label=aria>{label}</button>
        </form>
    }
}

#[component]
fn AddLocationForm(connection: i64, back: String) -> impl IntoView {
    let query = use_query();
    let typed = move |name: &str| {
        query
            .read_untracked()
            .get(name)
            .unwrap_or_default()
            .to_owned()
    };
    view! {
        <h3>"Add a location"</h3>
        <form method="post" action=super::AddLocation::PATH class="inline-form add-location">
            <input type="hidden" name="connection" value=connection.to_string()/>
            <input type="hidden" name="back" value=back/>
            <label for="location-bucket">"Bucket"</label>
            <input id="location-bucket" name="bucket" type="text" maxlength="63" required
                autocomplete="off" spellcheck="false" placeholder="my-bucket" value=typed("bucket")/>
            <label for="location-prefix">"Folder (optional)"</label>
            <input id="location-prefix" name="prefix" type="text" maxlength="256"
                autocomplete="off" spellcheck="false" placeholder="reports/2026/" value=typed("prefix")/>
            <label for="location-mode">"Access"</label>
            <select id="location-mode" name="mode">
                <option value="write">"read-write"</option>
                <option value="read">"read-only"</option>
            </select>
            <button type="submit">"Add location"</button>
        </form>
    }
}

#[component]
fn GrantForm(connection: i64, list: Vec<Location>, back: String) -> impl IntoView {
    let query = use_query();
    let email = query
        .read_untracked()
        .get("email")
        .unwrap_or_default()
        .to_owned();
    view! {
        <h3>"Grant a location to a teammate"</h3>
        <p class="muted">
            "The address gets an invitation: once its Crossview account accepts it, they browse and "
            "transfer inside the location with that account, never see the role or its ExternalId, and "
            "lose it the moment you revoke it (or at the end of the day you pick)."
        </p>
        <form method="post" action=super::CreateGrant::PATH class="stack narrow-form grant-form" data-step-up="">
            <input type="hidden" name="connection" value=connection.to_string()/>
            <input type="hidden" name="back" value=back/>
            <label for="grant-location">"Location"</label>
            <select id="grant-location" name="location">
                {list.into_iter().map(|l| view! {
                    <option value=l.id.to_string()>{format!("{} ({})", l.uri(), mode(l.writable))}</option>
                }).collect_view()}
            </select>
            <label for="grant-email">"Teammate's email"</label>
            <input id="grant-email" name="email" type="email" required autocomplete="off" value=email/>
            <label for="grant-mode">"Access"</label>
            <select id="grant-mode" name="mode">
                <option value="read">"read-only"</option>
                <option value="write">"read-write (where the location is)"</option>
            </select>
            <label for="grant-until">"Until (optional, end of day UTC)"</label>
            <input id="grant-until" name="until" type="date"/>
            <button type="submit" class="primary">"Invite"</button>
        </form>
    }
}

/// Connections teammates shared with the signed-in user (nothing when there are none).
/// Invitations to the signed-in user's address, each with Accept and Decline: nothing shared
/// appears in "Shared with me" before it is accepted.
#[component]
pub fn Invitations() -> impl IntoView {
    let invitations = Resource::new(|| (), |_| list_invitations());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match invitations.await {
                    Err(err) => Some(view! { <ErrorNotice error=Some(err)/> }.into_any()),
                    Ok(list) if list.is_empty() => None,
                    Ok(list) => Some(view! {
                        <section class="card invitations" id="invitations" aria-labelledby="invitations-title">
                            <h2 id="invitations-title">"Invitations"</h2>
                            <ul class="grants">
                                {list.into_iter().map(|i| view! {
                                    <li class="invitation">
                                        <span>{format!("{} invites you to ", i.owner)}</span>
                                        <code>{i.place.uri()}</code>
                                        {format!(" on {} ({}", i.name, mode(i.place.writable))}
                                        {i.until.map(|t| format!(", until {}", minutes_utc(&t)))} ") "
                                        <AnswerButton id=i.id accept=true/>
                                        <AnswerButton id=i.id accept=false/>
                                    </li>
                                }).collect_view()}
                            </ul>
                        </section>
                    }.into_any()),
                }
            })}
        </Transition>
    }
}

#[component]
fn AnswerButton(id: i64, accept: bool) -> impl IntoView {
    let (value, label, class) = match accept {
        true => ("yes", "Accept", "primary"),
        false => ("no", "Decline", "link danger"),
    };
    view! {
        <form method="post" action=super::AnswerInvitation::PATH class="inline">
            <input type="hidden" name="id" value=id.to_string()/>
            <input type="hidden" name="accept" value=value/>
            <button type="submit" class=class>{label}</button>
        </form>
    }
}

#[component]
pub fn SharedWithMe() -> impl IntoView {
    let shared = Resource::new(|| (), |_| shared_with_me());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match shared.await {
                    Err(err) => Some(view! { <ErrorNotice error=Some(err)/> }.into_any()),
                    Ok(list) if list.is_empty() => None,
                    Ok(list) => Some(view! {
                        <section class="card table-wrap shared-with-me" aria-labelledby="shared-title">
                            <h2 id="shared-title">"Shared with me"</h2>
                            <table>
                                <thead><tr><th>"Connection"</th><th>"Shared by"</th><th>"Locations"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|s| view! {
                                        <tr>
                                            <td>{s.name.clone()}</td>
                                            <td>{s.owner.clone()}</td>
                                            <td><ul class="grants">
                                                {s.locations.into_iter().map(|(place, until)| view! {
                                                    <li>
                                                        <a href=folder_href(s.connection, &place.bucket, &place.prefix) rel="external">
                                                            <code>{place.uri()}</code>
                                                        </a>
                                                        " (" {mode(place.writable)}
                                                        {until.map(|t| format!(", until {}", minutes_utc(&t)))} ")"
                                                    </li>
                                                }).collect_view()}
                                            </ul></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any()),
                }
            })}
        </Transition>
    }
}
