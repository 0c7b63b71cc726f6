//! One object's details: metadata, tags, preview, download, versions and actions.

use leptos::prelude::*;
use leptos_meta::Title;

use super::nav::*;
use crate::{
    browse::{describe_object, unchangeable, ObjectDetails},
    error::AppError,
    format::{human_size, minutes},
    forms::refusal_from_query,
    iam,
    location::*,
    objects::{MetadataEditor, ObjectActions, TagsEditor, Versions},
    shares::ShareForm,
    transfers::{download_href, preview_kind, Preview},
    ui::{CopyButton, ErrorNotice},
};

#[component]
pub(super) fn DetailsView(place: Memo<Option<Place>>) -> impl IntoView {
    let details = Resource::new(
        move || {
            place
                .get()
                .and_then(|p| Some((p.connection, p.bucket, p.object?)))
        },
        |key| async move {
            match key {
                Some((connection, bucket, key)) => describe_object(connection, bucket, key).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    keyboard_navigation(place);
    // A refused download comes back here as `?error=`.
    let download_error = refusal_from_query(iam::Action::GetObject, move || {
        place
            .get()
            .map(|p| format!("arn:aws:s3:::{}/{}", p.bucket, p.object.unwrap_or_default()))
            .unwrap_or_default()
    });
    view! {
        // From the URL, not the answer: so the server-rendered head has it too.
        <Title text=move || place.get().and_then(|p| p.object).unwrap_or_default()/>
        <Transition fallback=|| view! { <p class="muted">"Loading the object…"</p> }>
            {move || Suspend::new(async move {
                let result = details.await;
                let Some(place) = place.get_untracked() else {
                    return view! { <ErrorNotice error=Some(AppError::NotFound)/> }.into_any();
                };
                let key = place.object.clone().unwrap_or_default();
                let connection_name = result.as_ref().map(|d| d.connection.clone()).unwrap_or_else(|_| "Connection".into());
                let download = download_href(place.connection, &place.bucket, &key);
                view! {
                    <Crumbs connection=place.connection connection_name=connection_name
                        bucket=place.bucket.clone() prefix=folder_of(&key).to_owned()/>
                    <div class="page-head">
                        <h1 class="object-name">{name_in(&key, folder_of(&key)).to_owned()}</h1>
                        {result.is_ok().then(|| view! {
                            <a class="button primary" href=download rel="external nofollow">"Download"</a>
                        })}
                    </div>
                    <ErrorNotice error=download_error/>
                    {match result {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(d) => view! {
                            {preview_kind(Some(d.meta.content_type.as_str()).filter(|t| !t.is_empty()), &d.key).map(|kind| view! {
                                <Preview connection=place.connection bucket=place.bucket.clone() key=d.key.clone() kind=kind size=d.size
                                    content_type=d.meta.content_type.clone()/>
                            })}
                            <DetailsTable details=d.clone() connection=place.connection
                                editable=unchangeable(d.read_only, d.within.as_ref()).is_none()
                                saved=Callback::new(move |_| details.refetch())/>
                            <h2>"Share"</h2>
                            <ShareForm connection=place.connection bucket=place.bucket.clone() key=d.key.clone()/>
                            <h2>"Versions"</h2>
                            <Versions connection=place.connection bucket=place.bucket.clone() key=d.key.clone()/>
                            <h2>"Manage"</h2>
                            {match unchangeable(d.read_only, d.within.as_ref()) {
                                None => view! {
                                    <ObjectActions connection=place.connection bucket=place.bucket.clone() key=d.key.clone()/>
                                }.into_any(),
                                Some(why) => view! {
                                    <section class="card object-actions" aria-label="Manage" aria-describedby="locked-why">
                                        {["Rename / move", "Copy to…", "Delete"].map(|label| view! {
                                            <button type="button" disabled title=why>{label}</button>
                                        })}
                                        <p id="locked-why" class="muted">{why}": you may download and share this object, not change it."</p>
                                    </section>
                                }.into_any(),
                            }}
                        }.into_any(),
                    }}
                    <p><a href=place.folder()>"← Back to the folder"</a></p>
                }.into_any()
            })}
        </Transition>
    }
}

#[component]
fn DetailsTable(
    details: ObjectDetails,
    connection: i64,
    /// Neither the connection nor the location is read-only: the editors are offered.
    editable: bool,
    /// An edit was saved: the page asks for the object again.
    saved: Callback<()>,
) -> impl IntoView {
    let d = details;
    let row = |label: &'static str, value: Option<String>| {
        view! { <tr><th scope="row">{label}</th><td>{value.unwrap_or_else(|| "—".into())}</td></tr> }
    };
    let pairs = |pairs: Vec<(String, String)>| {
        pairs
            .into_iter()
            .map(|(k, v)| view! { <tr><th scope="row"><code>{k}</code></th><td>{v}</td></tr> })
            .collect_view()
    };
    let encryption = match (&d.encryption, &d.kms_key_id) {
        (Some(e), Some(key)) => Some(format!("{e} (KMS key {key})")),
        (Some(e), None) if e == "AES256" => Some("SSE-S3 (AES256)".to_owned()),
        (Some(e), None) => Some(e.clone()),
        (None, _) => None,
    };
    view! {
        <section class="card">
            <table class="details">
                <tbody>
                    {row("Size", Some(format!("{} ({} bytes)", human_size(d.size.unsigned_abs()), d.size)))}
                    {row("Content type", Some(d.meta.content_type.clone()).filter(|t| !t.is_empty()))}
                    {row("Last modified", d.last_modified.as_deref().map(minutes).map(|t| t + " UTC"))}
                    {row("Storage class", Some(d.meta.storage_class.clone()))}
                    <tr><th scope="row">"ETag"</th><td><code>{d.etag.clone().unwrap_or_else(|| "—".into())}</code></td></tr>
                    {row("Encryption", encryption)}
                    <tr><th scope="row">"Version"</th><td><code>{d.version_id.clone().unwrap_or_else(|| "—".into())}</code></td></tr>
                    <tr><th scope="row">"S3 URI"</th><td><code>{d.s3_uri.clone()}</code>" "<CopyButton text=d.s3_uri.clone() label="Copy S3 URI"/></td></tr>
                    <tr><th scope="row">"ARN"</th><td><code>{d.arn.clone()}</code>" "<CopyButton text=d.arn.clone() label="Copy ARN"/></td></tr>
                </tbody>
            </table>
        </section>
        <h2>"Metadata"</h2>
        {
            // The headers besides the content type (in the table above), then user metadata.
            let shown: Vec<(String, String)> = d.meta.headers().into_iter().skip(1)
                .filter(|(_, v)| !v.is_empty())
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .chain(d.meta.user.iter().map(|(n, v)| (format!("x-amz-meta-{n}"), v.clone())))
                .collect();
            match shown.is_empty() {
                true => view! { <p class="muted">"No other headers and no user metadata."</p> }.into_any(),
                false => view! { <section class="card"><table class="details"><tbody>{pairs(shown)}</tbody></table></section> }.into_any(),
            }
        }
        {editable.then(|| view! {
            <MetadataEditor connection bucket=d.bucket.clone() key=d.key.clone() meta=d.meta.clone() saved/>
        })}
        <h2>"Tags"</h2>
        {match d.tags.clone() {
            None => view! { <p class="muted">"The role may not read this object's tags (s3:GetObjectTagging)."</p> }.into_any(),
            Some(tags) => view! {
                {match tags.is_empty() {
                    true => view! { <p class="muted">"No tags."</p> }.into_any(),
                    false => view! { <section class="card"><table class="details"><tbody>{pairs(tags.clone())}</tbody></table></section> }.into_any(),
                }}
                {editable.then(|| view! {
                    <TagsEditor connection bucket=d.bucket.clone() key=d.key.clone() tags saved/>
                })}
            }.into_any(),
        }}
    }
}
