//! A connection's buckets: ListBuckets one page at a time, plus buckets added by name.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;

use super::nav::*;
use crate::{
    browse::{list_buckets, Bucket},
    error::AppError,
    format::minutes,
    forms::refusal_from_query,
    iam::{self, Reach},
    location::*,
    ui::ErrorNotice,
    url::use_query,
};

/// A connection's buckets: ListBuckets one page at a time, plus buckets added by name.
#[component]
pub fn BucketsPage() -> impl IntoView {
    let connection = connection_id();
    let tokens = tokens();
    let query = use_query();
    let typed_name = move || query.read().get("name").unwrap_or_default().to_owned();
    let page = Resource::new(
        move || (connection.get(), tokens.get().last().cloned()),
        |(connection, token)| async move {
            match connection {
                Some(id) => list_buckets(id, token).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    // The add form is a plain post: its refusal comes back as `?error=` with the typed name,
    // from which the page rebuilds the permission that was missing.
    let add_error = refusal_from_query(iam::Action::ListBucket, move || {
        format!("arn:aws:s3:::{}", typed_name())
    });
    view! {
        <Title text="Buckets"/>
        <Transition fallback=|| view! { <p class="muted">"Loading buckets…"</p> }>
            {move || Suspend::new(async move {
                let Some(id) = connection.get() else {
                    return view! { <ErrorNotice error=Some(AppError::NotFound)/> }.into_any();
                };
                match page.await {
                    Err(err) => view! {
                        <Crumbs connection=id connection_name="Connection".to_owned()/>
                        <ErrorNotice error=Some(err)/>
                    }.into_any(),
                    Ok(page) if page.locations.is_some() => view! {
                        <Crumbs connection=id connection_name=page.connection.clone()/>
                        <h1>"Locations"</h1>
                        <LocationTable connection=id locations=page.locations.clone().unwrap_or_default()/>
                    }.into_any(),
                    Ok(page) => view! {
                        <Crumbs connection=id connection_name=page.connection.clone()/>
                        <h1>"Buckets"</h1>
                        {page.list_denied.then(|| view! {
                            <p class="notice info" role="status">
                                "This role may not list the account's buckets (it lacks s3:ListAllMyBuckets, "
                                "which is common for narrow roles). Add the buckets it may use by name below."
                            </p>
                        })}
                        {(!page.list_denied).then(|| view! {
                            <BucketTable connection=id buckets=page.buckets.clone() removable=false/>
                            <Pager base=buckets_href(id) tokens=tokens.get_untracked() next=page.next.clone()/>
                        })}
                        <h2>"Added by name"</h2>
                        {if page.added.is_empty() {
                            view! { <p class="muted">"None yet."</p> }.into_any()
                        } else {
                            view! { <BucketTable connection=id buckets=page.added.clone() removable=true/> }.into_any()
                        }}
                        <section class="card narrow">
                            <ErrorNotice error=add_error/>
                            <form method="post" action=crate::browse::AddBucket::PATH class="inline-form">
                                <input type="hidden" name="connection" value=id.to_string()/>
                                <label for="bucket-name">"Add a bucket by name"</label>
                                <input id="bucket-name" name="name" type="text" maxlength="63" required
                                    autocomplete="off" spellcheck="false" placeholder="my-bucket" value=typed_name/>
                                <button type="submit" class="primary">"Add bucket"</button>
                            </form>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The places of a connection restricted to locations (or shared with the user at some): the
/// user's way in, since nothing above them can be listed.
#[component]
fn LocationTable(connection: i64, locations: Vec<Reach>) -> impl IntoView {
    view! {
        <p class="muted">"This connection reaches only these places."</p>
        <section class="card table-wrap">
            <table class="listing locations">
                <thead><tr><th>"Location"</th><th>"Access"</th></tr></thead>
                <tbody>
                    {locations.into_iter().map(|l| view! {
                        <tr>
                            <td><a class="entry folder" href=folder_href(connection, &l.bucket, &l.prefix)>{l.uri()}</a></td>
                            <td>{iam::mode(l.writable)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn BucketTable(connection: i64, buckets: Vec<Bucket>, removable: bool) -> impl IntoView {
    if buckets.is_empty() {
        return view! { <p class="muted">"No buckets in this account."</p> }.into_any();
    }
    view! {
        <section class="card table-wrap">
            <table class="listing">
                <thead><tr><th>"Name"</th><th>"Region"</th><th>"Created"</th>{removable.then(|| view! { <th><span class="visually-hidden">"Remove"</span></th> })}</tr></thead>
                <tbody>
                    {buckets.into_iter().map(|b| view! {
                        <tr>
                            <td><a class="entry bucket" rel="external" href=folder_href(connection, &b.name, "")>{b.name.clone()}</a></td>
                            <td>{b.region.clone().unwrap_or_else(|| "—".into())}</td>
                            <td>{b.created.as_deref().map(minutes).unwrap_or_else(|| "—".into())}</td>
                            {removable.then(|| view! {
                                <td>
                                    <form method="post" action=crate::browse::RemoveBucket::PATH>
                                        <input type="hidden" name="connection" value=connection.to_string()/>
                                        <input type="hidden" name="name" value=b.name.clone()/>
                                        <button type="submit" class="link">"Remove"</button>
                                    </form>
                                </td>
                            })}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}
