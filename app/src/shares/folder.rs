//! A shared folder's page below its landing facts: what is in the folder (a page at a time, its
//! sub-folders opened in place, nothing above it) and each file's download, all plain HTML; and
//! the page that zips the folder, or a sub-folder, in the browser (the one a visitor loads the
//! app for).

use std::sync::Arc;

use futures::FutureExt;
use leptos::prelude::*;

use super::{share_folder, share_zip_page};
use crate::{
    format::{human_size, minutes},
    location::with_query,
    ui::ErrorNotice,
    url::{encode_component, use_query},
    zip::{Pages, ZipButton},
};

/// The listing of the link `token` (a folder called `name`) at `?at=` (below it), from `?after=`.
#[component]
pub fn SharedFolder(token: String, name: String) -> impl IntoView {
    let query = use_query();
    let at = move || query.read().get("at").unwrap_or_default().to_owned();
    let after = move || query.read().get("after").map(str::to_owned);
    let listing = {
        let token = token.clone();
        Resource::new_blocking(
            move || (token.clone(), at(), after()),
            |(token, at, after)| share_folder(token, at, after),
        )
    };
    let here = format!("/s/{token}");
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let (name, here) = (name.clone(), here.clone());
                Suspend::new(async move {
                    match listing.await {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(page) => view! { <Listing page name here/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn Listing(page: super::SharedListing, name: String, here: String) -> impl IntoView {
    let at = page.at.clone();
    let open = |folder: &str| match folder.is_empty() {
        true => here.clone(),
        false => with_query(&here, "at", folder),
    };
    // The way down from the shared folder to this one; never above it.
    let mut trail = vec![(name.clone(), open(""))];
    let mut walked = String::new();
    for part in at.split_terminator('/') {
        walked = format!("{walked}{part}/");
        trail.push((part.to_owned(), open(&walked)));
    }
    let download = |file: &str| format!("{here}/download?file={}", encode_component(file));
    let zip = match at.is_empty() {
        true => format!("{here}/zip"),
        false => with_query(&format!("{here}/zip"), "at", &at),
    };
    let next = page
        .next
        .as_ref()
        .map(|n| with_query(&open(&at), "after", n));
    let empty = page.folders.is_empty() && page.files.is_empty();
    view! {
        <nav class="breadcrumbs" aria-label="Folder">
            {trail.into_iter().map(|(label, href)| view! { <a href=href>{label}</a>" / " }).collect_view()}
        </nav>
        <p class="toolbar"><a class="button" href=zip>"Download all as zip"</a></p>
        {empty.then(|| view! { <p class="muted">"This folder is empty."</p> })}
        <div class="table-wrap">
            <table class="listing" aria-label="Shared files">
                <thead><tr><th>"Name"</th><th>"Size"</th><th>"Modified"</th><th><span class="visually-hidden">"Download"</span></th></tr></thead>
                <tbody>
                    {page.folders.iter().map(|folder| {
                        let label = folder.strip_prefix(at.as_str()).unwrap_or(folder).to_owned();
                        view! { <tr><td><a href=open(folder)>{label}</a></td><td>"—"</td><td></td><td></td></tr> }
                    }).collect_view()}
                    {page.files.iter().map(|file| {
                        let label = file.name.strip_prefix(at.as_str()).unwrap_or(&file.name).to_owned();
                        view! {
                            <tr>
                                <td>{label.clone()}</td>
                                <td>{human_size(file.size.unsigned_abs())}</td>
                                <td>{file.modified.as_deref().map(minutes).unwrap_or_default()}</td>
                                <td><a href=download(&file.name) rel="external nofollow" aria-label=format!("Download {label}")>"Download"</a></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {next.map(|href| view! { <p><a class="button secondary" href=href rel="next">"Next page"</a></p> })}
        <p class="muted">"Files come straight from their storage; each download link works for a few minutes."</p>
    }
}

/// `/s/<token>/zip?at=<folder below it>`: a shared folder (or one below it) as one zip, built in
/// the browser from presigned GETs; the link's rules apply to each page of it.
#[component]
pub fn ShareZipPage() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let token = params.read_untracked().get("token").unwrap_or_default();
    let at = use_query()
        .read_untracked()
        .get("at")
        .unwrap_or_default()
        .to_owned();
    let file = Resource::new_blocking(
        {
            let token = token.clone();
            move || token.clone()
        },
        super::share_landing,
    );
    let back = match at.is_empty() {
        true => format!("/s/{token}"),
        false => with_query(&format!("/s/{token}"), "at", &at),
    };
    view! {
        <leptos_meta::Title text="Shared folder as zip"/>
        <main class="auth">
            <section class="card auth-card shared-file">
                <p class="brand">"Crossview"</p>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || {
                        let (token, at, back) = (token.clone(), at.clone(), back.clone());
                        Suspend::new(async move {
                            match file.await {
                                Ok(f) if f.folder && f.status == super::LinkStatus::Live && !f.password => {
                                    let pages: Pages = Arc::new(move |items, after| {
                                        share_zip_page(token.clone(), items, after).boxed_local()
                                    });
                                    let title = format!("{}/{at}", f.name);
                                    view! {
                                        <h1 class="object-name">{title}</h1>
                                        <p>"The files come straight from their storage into one zip, made here in your browser."</p>
                                        <p class="toolbar">
                                            <ZipButton connection=0 bucket=f.name folder=at selected=Signal::derive(Vec::new)
                                                everything=Signal::derive(|| true) pages=pages/>
                                        </p>
                                        <p><a href=back>"Back to the folder"</a></p>
                                    }.into_any()
                                }
                                Ok(f) if f.folder => view! {
                                    <h1 class="object-name">{format!("{}/", f.name)}</h1>
                                    <p>"Open the folder's link first: it may ask for a password, or no longer work."</p>
                                    <p><a class="button primary" href=back>"Open the folder"</a></p>
                                }.into_any(),
                                Ok(_) => view! { <ErrorNotice error=Some(crate::error::AppError::NotFound)/> }.into_any(),
                                Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            </section>
        </main>
    }
}
