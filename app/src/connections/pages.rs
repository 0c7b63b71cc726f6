//! The connection pages: the list, a new connection, and one connection with its setup guide.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;

use super::{
    connection_guide, connection_options, get_connection, list_connections, Connection, SetupGuide,
    Status, VerifyProgress,
};
use crate::{
    error::AppError,
    format::minutes_utc,
    forms::error_from_query,
    grants::{Invitations, LocationsSection, SharedWithMe},
    ui::{CopyBlock, CopyButton, ErrorNotice},
    url::{encode_path, load_by_id, use_query},
};

#[component]
fn StatusBadge(connection: Connection) -> impl IntoView {
    let class = format!("badge {}", connection.status.class());
    view! {
        <span class=class>{connection.status.label()}</span>
        {connection.trust_warning.then(|| view! { <span class="badge warning">"Open trust"</span> })}
    }
}

/// The signed-in user's connections: the home page.
#[component]
pub fn ConnectionsPage() -> impl IntoView {
    let connections = Resource::new(|| (), |_| list_connections());
    view! {
        <Title text="Connections"/>
        <div class="page-head">
            <h1>"Connections"</h1>
            <a class="button primary" href="/connections/new">"New connection"</a>
            <a class="button secondary" href="/connections/bulk">"Connect many accounts"</a>
        </div>
        <Invitations/>
        <SharedWithMe/>
        <Transition fallback=|| view! { <p class="muted">"Loading connections…"</p> }>
            {move || Suspend::new(async move {
                match connections.await {
                    Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <section class="card empty">
                            <h2>"No AWS accounts connected yet"</h2>
                            <p>
                                "Crossview reaches an AWS account through an IAM role you create there. The role "
                                "trusts Crossview only together with an ExternalId that Crossview generates for you, "
                                "and Crossview keeps nothing but the role's ARN and that ID: no keys, no secrets."
                            </p>
                            <a class="button primary" href="/connections/new">"Connect an AWS account"</a>
                        </section>
                    }.into_any(),
                    Ok(list) => view! {
                        <section class="card table-wrap">
                            <table>
                                <thead><tr><th>"Name"</th><th>"Account"</th><th>"Status"</th><th>"Last verified"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|c| view! {
                                        <tr>
                                            <td><a href=format!("/connections/{}", c.id)>{c.name.clone()}</a></td>
                                            <td><code>{c.account_id.clone().unwrap_or_else(|| "—".into())}</code></td>
                                            <td><StatusBadge connection=c.clone()/></td>
                                            <td>{c.last_verified_at.as_deref().map(minutes_utc).unwrap_or_else(|| "never".into())}</td>
                                        </tr>
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

#[component]
pub fn NewConnectionPage() -> impl IntoView {
    let options = Resource::new(|| (), |_| connection_options());
    let query = use_query();
    let name = move || query.read().get("name").unwrap_or_default().to_owned();
    view! {
        <Title text="New connection"/>
        <h1>"Connect an AWS account"</h1>
        <section class="card narrow">
            <p>
                "Name the connection. Crossview then generates the ExternalId for it and shows you, "
                "step by step, the role to create in your account."
            </p>
            <ErrorNotice error=error_from_query()/>
            <form method="post" action=super::CreateConnection::PATH class="stack" data-step-up="">
                <label for="name">"Name"</label>
                <input id="name" name="name" type="text" maxlength="100" placeholder="Production data" value=name required/>
                <AccessChoice read_only=false/>
                <Transition fallback=|| view! { <input type="hidden" name="external_id" value=""/> }>
                    {move || Suspend::new(async move {
                        if matches!(options.await, Ok(o) if o.custom_external_id) {
                            view! {
                                <label for="external_id">"Your own ExternalId (optional)"</label>
                                <input id="external_id" name="external_id" type="text" maxlength="1224"
                                    aria-describedby="external-id-hint"/>
                                <small id="external-id-hint" class="muted">
                                    "Leave empty to let Crossview generate one (recommended)."
                                </small>
                            }.into_any()
                        } else {
                            view! { <input type="hidden" name="external_id" value=""/> }.into_any()
                        }
                    })}
                </Transition>
                <button type="submit" class="primary">"Create connection"</button>
            </form>
        </section>
    }
}

#[component]
pub fn ConnectionPage() -> impl IntoView {
    let connection = load_by_id(get_connection);
    let guide = load_by_id(connection_guide);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the connection…"</p> }>
            {move || Suspend::new(async move {
                match connection.await {
                    Err(err) => view! { <Title text="Connection"/><ErrorNotice error=Some(err)/> }.into_any(),
                    Ok(c) => view! { <ConnectionView connection=c guide=guide/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ConnectionView(
    connection: Connection,
    guide: Resource<Result<SetupGuide, AppError>>,
) -> impl IntoView {
    let id = connection.id;
    // After a refused ARN, the form shows what was typed, not what was stored.
    let query = use_query();
    let typed_arn = query.read_untracked().get("role_arn").map(str::to_owned);
    let arn_value = typed_arn
        .or(connection.role_arn.clone())
        .unwrap_or_default();
    let verified = connection.status == Status::Verified;
    // Set when a verification is sent: the page stays until the answer arrives, and shows its
    // steps meanwhile.
    let verifying = RwSignal::new(false);
    let on_verify = move |_| {
        // A second submit (dropped: the form is on its way) must not start a second poll.
        if !verifying.get_untracked() {
            verifying.set(true);
        }
    };
    view! {
        <Title text=connection.name.clone()/>
        <div class="page-head">
            <h1>{connection.name.clone()}</h1>
            <StatusBadge connection=connection.clone()/>
            {verified.then(|| view! {
                <a class="button primary" href=crate::location::buckets_href(id)>"Browse buckets"</a>
                <a class="button secondary" href=format!("/connections/{id}/doctor")>"Check this connection"</a>
            })}
        </div>
        <ErrorNotice error=error_from_query()/>
        <VerifyProgressView id verifying/>
        {(verified && use_query().read_untracked().get("notice") == Some("checked")).then(|| view! {
            <section class="card success-card" aria-label="Verified">
                <h2>"Connection verified"</h2>
                <p>"Crossview can reach this account through the role, and only with this connection's ExternalId."</p>
                <p><a class="button primary" href=crate::location::buckets_href(id)>"Open its buckets"</a></p>
            </section>
        })}
        {connection.last_error.filter(|_| connection.status == Status::Failed).map(|problem| view! {
            <section class="card problem" role="alert">
                <h2>"Verification failed"</h2>
                <p>{problem.to_string()}</p>
                <p class="muted">{problem.fix()}</p>
            </section>
        })}
        <section class="card">
            <dl class="facts">
                <dt>"Role ARN"</dt><dd><code>{connection.role_arn.clone().unwrap_or_else(|| "not set yet".into())}</code></dd>
                <dt>"Account"</dt><dd><code>{connection.account_id.clone().unwrap_or_else(|| "—".into())}</code></dd>
                <dt>"ExternalId"</dt>
                <dd class="inline-copy"><code>{connection.external_id.clone()}</code><CopyButton text=connection.external_id.clone() label="Copy ExternalId"/>
                    {connection.last_verified_at.is_none().then(|| view! {
                        <span class="muted">{format!(" Not verified within {} hours of being generated, it is replaced by a new one.", super::UNVERIFIED_EXTERNAL_ID_HOURS)}</span>
                    })}</dd>
                <dt>"Last verified"</dt><dd>{connection.last_verified_at.as_deref().map(minutes_utc).unwrap_or_else(|| "never".into())}</dd>
                <dt>"Access"</dt><dd>{crate::iam::mode(!connection.read_only)}</dd>
                <dt>"Role may write"</dt><dd id="writes-learned">{connection.writes.summary()}
                    {connection.writes.refused.iter().map(|place| view! { <code>{place.clone()}</code>" " }).collect_view()}</dd>
            </dl>
            {connection.role_arn.is_some().then(|| view! {
                <form method="post" action=super::VerifyConnection::PATH class="inline" on:submit=on_verify>
                    <input type="hidden" name="id" value=id.to_string()/>
                    <button type="submit" disabled=move || verifying.get() aria-busy=move || verifying.get().to_string()>
                        {move || if verifying.get() { "Verifying…" } else { "Verify again" }}
                    </button>
                </form>
            })}
        </section>
        <details class="card setup" open=!verified>
            <summary><h2>"Set up the role in your AWS account"</h2></summary>
            <Transition fallback=|| view! { <p class="muted">"Loading the instructions…"</p> }>
                {move || Suspend::new(async move {
                    match guide.await {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(g) => view! { <Guide guide=g/> }.into_any(),
                    }
                })}
            </Transition>
            <h3>"Paste the role's ARN"</h3>
            <form method="post" action=super::SaveRoleArn::PATH class="stack" data-step-up="" on:submit=on_verify>
                <input type="hidden" name="id" value=id.to_string()/>
                <label for="role_arn">"Role ARN"</label>
                <input id="role_arn" name="role_arn" type="text" placeholder="arn:aws:iam::123456789012:role/crossview-access"
                    value=arn_value autocomplete="off" spellcheck="false" required/>
                <small class="muted">"A role created moments ago can take a few seconds to be usable; verifying waits for it."</small>
                <button type="submit" class="primary" disabled=move || verifying.get() aria-busy=move || verifying.get().to_string()>
                    {move || if verifying.get() { "Verifying…" } else { "Save and verify" }}
                </button>
            </form>
        </details>
        {verified.then(|| view! { <super::RotationSection connection=id/> })}
        <LocationsSection connection=id back=format!("/connections/{id}")/>
        <section class="card">
            <h2>"Manage"</h2>
            <form method="post" action=super::RenameConnection::PATH class="stack narrow-form">
                <input type="hidden" name="id" value=id.to_string()/>
                <label for="rename">"Name"</label>
                <input id="rename" name="name" type="text" maxlength="100" value=connection.name.clone() required/>
                <button type="submit">"Rename"</button>
            </form>
            <form method="post" action=super::SetConnectionAccess::PATH class="stack narrow-form">
                <input type="hidden" name="id" value=id.to_string()/>
                <AccessChoice read_only=connection.read_only/>
                <button type="submit">"Save access"</button>
            </form>
            <Endpoints connection=connection.clone()/>
            <details class="danger-zone">
                <summary>"Delete this connection…"</summary>
                <p>"Crossview forgets the role ARN and ExternalId. The role in your account stays until you delete it there."</p>
                <form method="post" action=super::DeleteConnection::PATH data-step-up="">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <button type="submit" class="danger">"Delete connection"</button>
                </form>
            </details>
        </section>
    }
}

/// S3-compatible stores (MinIO, Ceph RGW): their own S3 and STS endpoints, where the
/// deployment allows it.
#[component]
fn Endpoints(connection: Connection) -> impl IntoView {
    let options = Resource::new(|| (), |_| connection_options());
    let query = use_query();
    let typed = move |field: &str, stored: &Option<String>| {
        query
            .read_untracked()
            .get(field)
            .map(str::to_owned)
            .or(stored.clone())
            .unwrap_or_default()
    };
    let s3 = typed("s3_endpoint", &connection.s3_endpoint);
    let sts = typed("sts_endpoint", &connection.sts_endpoint);
    let custom = connection.s3_endpoint.is_some() || connection.sts_endpoint.is_some();
    let id = connection.id.to_string();
    view! {
        <Transition fallback=|| ()>
            {move || {
                let (s3, sts, id) = (s3.clone(), sts.clone(), id.clone());
                Suspend::new(async move {
                    matches!(options.await, Ok(o) if o.custom_endpoints).then(|| view! {
                        <details class="endpoints" open=custom>
                            <summary>"S3-compatible storage (MinIO, Ceph RGW)…"</summary>
                            <p class="muted">
                                "For a store that implements AssumeRole. Leave both empty for AWS. "
                                "Changing them needs a new verification."
                            </p>
                            <form method="post" action=super::SetConnectionEndpoints::PATH class="stack narrow-form" data-step-up="">
                                <input type="hidden" name="id" value=id/>
                                <label for="s3_endpoint">"S3 endpoint"</label>
                                <input id="s3_endpoint" name="s3_endpoint" type="url" placeholder="https://minio.example.com:9000" value=s3/>
                                <label for="sts_endpoint">"STS endpoint"</label>
                                <input id="sts_endpoint" name="sts_endpoint" type="url" placeholder="https://minio.example.com:9000" value=sts/>
                                <button type="submit">"Save endpoints"</button>
                            </form>
                        </details>
                    })
                })
            }}
        </Transition>
    }
}

#[component]
fn Guide(guide: SetupGuide) -> impl IntoView {
    let template_href = format!(
        "data:application/json;charset=utf-8,{}",
        encode_path(&guide.cloudformation_template)
    );
    view! {
        <ol class="steps">
            <li>
                <h3>"Create a role that trusts Crossview"</h3>
                <p>"Crossview's AWS principal:"</p>
                <p class="inline-copy"><code>{guide.principal_arn.clone()}</code><CopyButton text=guide.principal_arn.clone() label="Copy principal ARN"/></p>
                <p>"Use exactly this trust policy: it allows Crossview in only with your connection's ExternalId."</p>
                <CopyBlock text=guide.trust_policy.clone() label="Copy trust policy"/>
            </li>
            <li>
                <h3>"Give the role permission to browse"</h3>
                <details>
                    <summary>"Read-only permissions"</summary>
                    <CopyBlock text=guide.read_only_policy.clone() label="Copy read-only policy"/>
                </details>
                <details>
                    <summary>"Read-write permissions (upload, delete, copy)"</summary>
                    <CopyBlock text=guide.read_write_policy.clone() label="Copy read-write policy"/>
                </details>
                <p class="muted">"Buckets encrypted with a customer-managed KMS key also need kms:Decrypt (and kms:GenerateDataKey to upload) on that key."</p>
            </li>
            <li>
                <h3>"Or let AWS create it for you"</h3>
                <p>
                    <a class="button" href=template_href download="crossview-role.template.json">"Download the CloudFormation template"</a>
                    {guide.quick_create_url.clone().map(|url| view! {
                        " " <a class="button" href=url target="_blank" rel="noopener noreferrer">"Open CloudFormation quick-create"</a>
                    })}
                </p>
                <details>
                    <summary>"AWS CLI commands"</summary>
                    <CopyBlock text=guide.cli_commands.clone() label="Copy AWS CLI commands"/>
                </details>
                <details>
                    <summary>"Terraform"</summary>
                    <p class="muted">"Calls Crossview's module (deploy/terraform/crossview-role in its repository: copy it to modules/crossview-role, or point source at where you keep it). For many accounts, one call per account, each with its own connection's ExternalId."</p>
                    <CopyBlock text=guide.terraform.clone() label="Copy Terraform"/>
                </details>
            </li>
        </ol>
    }
}

/// What Crossview may do through a connection. Read-only is enforced by Crossview itself (no
/// change is sent to AWS), whatever the role's own policy allows.
#[component]
fn AccessChoice(read_only: bool) -> impl IntoView {
    view! {
        <fieldset class="access-choice">
            <legend>"What may Crossview do?"</legend>
            <label><input type="radio" name="access" value="read-write" checked=!read_only/>
                " Read and write: upload, create folders, move, copy and delete"</label>
            <label><input type="radio" name="access" value="read-only" checked=read_only/>
                " Read only: browse, download and share"</label>
        </fieldset>
    }
}

/// The steps of a verification, while the page waits for its answer: polled from the server
/// (the check itself notes where it is), twice a second.
#[component]
fn VerifyProgressView(id: i64, verifying: RwSignal<bool>) -> impl IntoView {
    let progress = RwSignal::new(None::<VerifyProgress>);
    // Runs again only when it changes: a run again would end the poll the last run started.
    let on = Memo::new(move |_| verifying.get());
    Effect::new(move |started: Option<bool>| {
        let on = on.get();
        if on && started != Some(true) {
            poll(id, progress);
        }
        on
    });
    const STEPS: [(&str, &str); 5] = [
        (
            "assume",
            "Assume the role with this connection's ExternalId",
        ),
        ("account", "Check the role's account"),
        (
            "wrong_external_id",
            "Make sure a wrong ExternalId is refused",
        ),
        ("without_external_id", "Make sure no ExternalId is refused"),
        ("writes", "Find where the role may write"),
    ];
    view! {
        <Show when=move || verifying.get()>
            <section class="card verify-progress" aria-label="Verification">
                <h2>"Verifying…"</h2>
                <ol class="steps-progress" role="status" aria-live="polite">
                    {move || {
                        let now = progress.get();
                        let step = now.as_ref().map(|p| p.step.as_str()).unwrap_or("assume");
                        let step = if step == "propagating" { "assume" } else { step };
                        let current = STEPS.iter().position(|(s, _)| *s == step).unwrap_or(0);
                        STEPS.iter().enumerate().map(|(i, (_, label))| {
                            let (class, mark) = match i.cmp(&current) {
                                std::cmp::Ordering::Less => ("done", "✓ "),
                                std::cmp::Ordering::Equal => ("current", "… "),
                                std::cmp::Ordering::Greater => ("todo", ""),
                            };
                            view! { <li class=class aria-current=(class == "current").then_some("step")>{mark}{*label}</li> }
                        }).collect_view()
                    }}
                </ol>
                {move || progress.get().filter(|p| p.step == "propagating").map(|p| view! {
                    <p class="muted">{format!(
                        "AWS refused the role so far: a new role takes a moment to be usable. Waiting for AWS to apply it: {} of {} s.",
                        p.elapsed_secs.min(p.wait_secs), p.wait_secs
                    )}</p>
                })}
            </section>
        </Show>
    }
}

/// Asks where the verification is until the page is left (the answer replaces the page).
fn poll(id: i64, progress: RwSignal<Option<VerifyProgress>>) {
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    if let Ok(now) = super::verification_progress(id).await {
                        if now.is_some() {
                            progress.set(now);
                        }
                    }
                });
            },
            std::time::Duration::from_millis(500),
        );
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, progress);
}
