//! "Connect many accounts": one connection per account of a list (or of a StackSet's
//! instances), each with its own ExternalId; the StackSet that rolls the role out with a
//! per-account ExternalId; and "Verify all", which shows its progress row by row.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use super::Status;
#[cfg(feature = "ssr")]
use crate::call;
use crate::{
    error::AppError,
    forms::error_from_query,
    ui::{CopyBlock, ErrorNotice},
    url::{encode_path, use_query},
};

/// One connection of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkRow {
    pub id: i64,
    pub account_id: String,
    pub role_arn: String,
    pub external_id: String,
    pub status: Status,
    pub problem: Option<String>,
    /// The step of a verification running now.
    pub step: Option<String>,
}

/// The StackSet for a batch: its template, and the commands with each account's ExternalId.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkGuide {
    pub template: String,
    pub script: String,
}

/// `ids` as the page's URL carries them: `1,2,3`.
#[cfg(feature = "ssr")]
fn ids_of(text: &str) -> Vec<i64> {
    text.split(',')
        .filter_map(|id| id.trim().parse().ok())
        .collect()
}

#[server(endpoint = "connections_bulk_create")]
pub async fn create_connections(
    accounts: String,
    role_name: String,
    access: Option<String>,
) -> Result<(), AppError> {
    call::form("/connections/bulk")
        .keep("accounts", &accounts)
        .fresh()
        .signed_in(async |cx| {
            let read_only = super::read_only(access.as_deref())?;
            let role = Some(role_name.trim()).filter(|r| !r.is_empty());
            let roles =
                super::ssr::bulk::parse(&accounts, role.unwrap_or(super::ssr::guide::ROLE_NAME))?;
            let ids =
                super::ssr::bulk::create_all(&cx.state, cx.user.id, &roles, read_only).await?;
            let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
            call::redirect(&format!("/connections/bulk?ids={}", ids.join(",")));
            Ok(())
        })
        .await
}

#[server(endpoint = "connections_bulk")]
pub async fn bulk_rows(ids: String) -> Result<Vec<BulkRow>, AppError> {
    call::signed_in(async |cx| super::ssr::bulk::rows(&cx.state, cx.user.id, &ids_of(&ids)).await)
        .await
}

#[server(endpoint = "connections_bulk_stack_set")]
pub async fn stack_set_commands(ids: String) -> Result<BulkGuide, AppError> {
    call::signed_in(async |cx| {
        let rows = super::ssr::bulk::rows(&cx.state, cx.user.id, &ids_of(&ids)).await?;
        let principal = super::ssr::principal(&cx.state).await?;
        let read_only = match rows.first() {
            Some(row) => {
                super::ssr::get(cx.pool(), cx.user.id, row.id)
                    .await?
                    .read_only
            }
            None => true,
        };
        Ok(super::ssr::bulk::stack_set(&principal, &rows, read_only))
    })
    .await
}

#[server(endpoint = "connections_bulk_verify")]
pub async fn verify_all(ids: String) -> Result<(), AppError> {
    let page = format!("/connections/bulk?ids={ids}");
    call::form(page.clone())
        .signed_in(async |cx| {
            let verified =
                super::ssr::bulk::verify_all(&cx.state, cx.user.id, &ids_of(&ids)).await?;
            call::redirect(&format!("{page}&verified={verified}"));
            Ok(())
        })
        .await
}

#[component]
pub fn BulkPage() -> impl IntoView {
    let query = use_query();
    let ids = move || query.read().get("ids").map(str::to_owned);
    view! {
        <Title text="Connect many accounts"/>
        <h1>"Connect many accounts"</h1>
        <ErrorNotice error=error_from_query()/>
        {move || match ids() {
            None => view! { <BulkForm/> }.into_any(),
            Some(ids) => view! { <Batch ids/> }.into_any(),
        }}
    }
}

#[component]
fn BulkForm() -> impl IntoView {
    let kept = use_query()
        .read_untracked()
        .get("accounts")
        .unwrap_or_default()
        .to_owned();
    view! {
        <p>"Each account gets a connection of its own, with its own ExternalId (one ID for many accounts would let one account's role answer for another's). Roll the role out with the StackSet the next page gives, or with the Terraform module, then verify them all at once."</p>
        <form method="post" action=CreateConnections::PATH class="stack" data-step-up="">
            <label for="accounts">"Accounts: one per line, an account id and, if not the one below, the role's name — or paste the output of aws cloudformation list-stack-instances"</label>
            <textarea id="accounts" name="accounts" rows="8" required spellcheck="false"
                placeholder="111122223333\n444455556666 crossview-reader">{kept}</textarea>
            <label for="role_name">"Role name"</label>
            <input id="role_name" name="role_name" type="text" value=super::DEFAULT_ROLE_NAME/>
            <fieldset class="access-choice">
                <legend>"What may Crossview do?"</legend>
                <label><input type="radio" name="access" value="read-only" checked/>" Read only"</label>
                <label><input type="radio" name="access" value="read-write"/>" Read and write"</label>
            </fieldset>
            <button type="submit" class="primary">"Create the connections"</button>
        </form>
    }
}

#[component]
fn Batch(ids: String) -> impl IntoView {
    let key = ids.clone();
    let rows = Resource::new(move || key.clone(), bulk_rows);
    let key = ids.clone();
    let guide = Resource::new(move || key.clone(), stack_set_commands);
    // While "Verify all" is on its way, the rows are read again twice a second.
    let verifying = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        let handle = leptos::prelude::set_interval_with_handle(
            move || {
                if verifying.get_untracked() {
                    rows.refetch();
                }
            },
            std::time::Duration::from_millis(500),
        );
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    }
    let verified = move || use_query().read().get("verified").map(str::to_owned);
    view! {
        {move || verified().map(|n| view! { <p class="notice success" role="status">{format!("Verified {n} of the batch's connections; each row says how the others failed.")}</p> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                    Ok(rows) => view! { <BatchTable rows/> }.into_any(),
                }
            })}
        </Transition>
        <form method="post" action=VerifyAll::PATH class="inline" on:submit=move |_| verifying.set(true)>
            <input type="hidden" name="ids" value=ids.clone()/>
            <button type="submit" class="primary" aria-busy=move || verifying.get().to_string()>
                {move || if verifying.get() { "Verifying…" } else { "Verify all" }}
            </button>
        </form>
        <section class="card">
            <h2>"Roll the role out with a StackSet"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match guide.await {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(g) => {
                            let href = format!("data:application/json;charset=utf-8,{}", encode_path(&g.template));
                            view! {
                                <p>"The template takes the ExternalId as a parameter: the StackSet gives each account's instance its own, as an override."</p>
                                <p><a class="button" href=href download="crossview-role.template.json">"Download the StackSet template"</a></p>
                                <CopyBlock text=g.script label="Copy StackSet commands"/>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn BatchTable(rows: Vec<BulkRow>) -> impl IntoView {
    let done = rows.iter().filter(|r| r.status == Status::Verified).count();
    let total = rows.len();
    view! {
        <p role="status" class="bulk-progress">{format!("{done} of {total} verified")}</p>
        <div class="table-wrap"><table class="wide bulk">
            <thead><tr><th>"Account"</th><th>"Role ARN"</th><th>"ExternalId"</th><th>"Status"</th></tr></thead>
            <tbody>{rows.into_iter().map(|r| view! {
                <tr data-account=r.account_id.clone()>
                    <td><a href=format!("/connections/{}", r.id)>{r.account_id.clone()}</a></td>
                    <td><code class="arn">{r.role_arn.clone()}</code></td>
                    <td><code>{r.external_id.clone()}</code></td>
                    <td>
                        <span class=format!("badge {}", r.status.class())>{r.status.label()}</span>
                        {r.step.map(|s| view! { " " <span class="muted">{format!("checking: {s}")}</span> })}
                        {r.problem.map(|p| view! { <br/><small>{p}</small> })}
                    </td>
                </tr>
            }).collect_view()}</tbody>
        </table></div>
    }
}
