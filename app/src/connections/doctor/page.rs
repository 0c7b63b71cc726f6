//! "Check this connection": the doctor's last report (a verdict per capability and bucket, the
//! facts behind them, each finding with its fix), a button that runs it again, and for a CORS
//! finding the change Crossview would make, shown before it is made.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;

use super::{
    cors_preview, doctor_report, CheckConnection, CorsChange, Finding, FixCors, Report, Severity,
    Verdict,
};
use crate::{
    connections::get_connection,
    error::AppError,
    format::minutes_utc,
    forms::error_from_query,
    ui::ErrorNotice,
    url::{load_by_id, use_query},
};

#[component]
pub fn DoctorPage() -> impl IntoView {
    let connection = load_by_id(get_connection);
    let report = load_by_id(doctor_report);
    let query = use_query();
    let notice = move || {
        let q = query.read();
        if q.get("cors_fixed").is_some() {
            Some("The bucket's CORS rules now admit Crossview (its other rules kept, after Crossview's). Checked again below.")
        } else if q.get("checked").is_some() {
            Some("Checked: the report below is this run's.")
        } else {
            None
        }
    };
    view! {
        <Title text="Check this connection"/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let connection = match connection.await {
                    Ok(c) => c,
                    Err(err) => return view! { <ErrorNotice error=Some(err)/> }.into_any(),
                };
                let id = connection.id;
                let report = report.await;
                view! {
                    <div class="page-head">
                        <h1>"Check this connection"</h1>
                        <a class="button secondary" href=format!("/connections/{id}")>{connection.name.clone()}</a>
                    </div>
                    <ErrorNotice error=error_from_query()/>
                    {notice().map(|text| view! { <p class="notice success" role="status">{text}</p> })}
                    <p class="muted">"Crossview tries what each bucket allows with read-only requests and fresh credentials: it lists one key and reads its headers, reads the bucket's CORS, encryption, versioning, Object Lock, public access and lifecycle settings, asks KMS whether the role may use the bucket's key, and probes writes with a request S3 refuses before anything is written."</p>
                    <form method="post" action=CheckConnection::PATH class="inline">
                        <input type="hidden" name="id" value=id.to_string()/>
                        <button type="submit" class="primary">"Check now"</button>
                    </form>
                    {match report {
                        Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                        Ok(None) => view! { <p id="doctor-none">"Not checked yet."</p> }.into_any(),
                        Ok(Some(report)) => view! { <ReportView report connection=id owner=true/> }.into_any(),
                    }}
                }
                .into_any()
            })}
        </Transition>
    }
}

/// A verdict as a badge, its reason beside it for screen readers and in its tooltip.
#[component]
fn VerdictBadge(verdict: Verdict) -> impl IntoView {
    let reason = verdict.reason().to_owned();
    view! {
        <span class=format!("badge {}", verdict.class()) title=reason.clone()>{verdict.label()}</span>
        {(!reason.is_empty()).then(|| view! { <span class="visually-hidden">{format!(": {reason}")}</span> })}
    }
}

/// The report: capabilities over all buckets, then per bucket, then the findings.
#[component]
pub fn ReportView(report: Report, connection: i64, owner: bool) -> impl IntoView {
    let overall = report.overall();
    let capabilities: Vec<_> = overall.iter().map(|(c, _)| *c).collect();
    let columns = capabilities.clone();
    view! {
        <section class="card doctor" aria-label="Doctor's report">
            <h2>"What works"</h2>
            <p class="muted">{format!("Checked {}.", minutes_utc(&report.checked_at))}</p>
            {report.stopped.clone().map(|why| view! { <p class="notice problem" role="alert">{why}</p> })}
            <dl class="facts capabilities">
                {overall.into_iter().map(|(c, v)| view! {
                    <dt>{c.label()}</dt><dd><VerdictBadge verdict=v/></dd>
                }).collect_view()}
            </dl>
            {(!report.buckets.is_empty()).then(|| view! {
                <div class="table-wrap"><table class="wide doctor-buckets">
                    <thead><tr>
                        <th>"Bucket"</th><th>"Region"</th>
                        {columns.iter().map(|c| view! { <th>{c.label()}</th> }).collect_view()}
                    </tr></thead>
                    <tbody>{report.buckets.iter().map(|b| {
                        let place = format!("{}/{}", b.bucket, b.prefix);
                        let cells = capabilities.iter().map(|c| {
                            let verdict = b.verdict(*c).cloned().unwrap_or(Verdict::Unknown(String::new()));
                            view! { <td><VerdictBadge verdict/></td> }
                        }).collect_view();
                        let facts = b.facts.clone();
                        view! {
                            <tr>
                                <td><code>{place}</code>
                                    <details><summary>"Settings"</summary>
                                        <dl class="facts">{facts.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}</dl>
                                    </details>
                                </td>
                                <td>{b.region.clone().unwrap_or_else(|| "—".into())}</td>
                                {cells}
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table></div>
            })}
            {report.more.then(|| view! { <p class="muted">"The role sees more buckets than one check examines (the first 100 by name): add locations to check the others."</p> })}
        </section>
        <section class="card" aria-label="Findings">
            <h2>{format!("Findings ({})", report.findings.len())}</h2>
            {report.findings.is_empty().then(|| view! { <p>"Nothing to fix."</p> })}
            <ul class="findings">
                {report.findings.into_iter().map(|f| view! { <FindingView finding=f connection owner/> }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn FindingView(finding: Finding, connection: i64, owner: bool) -> impl IntoView {
    let class = match finding.severity {
        Severity::Problem => "finding problem",
        Severity::Advice => "finding advice",
    };
    let bucket = finding.bucket.clone();
    view! {
        <li class=class data-code=finding.code.clone()>
            <p>{finding.message.clone()}</p>
            {finding.fix.map(|fix| view! {
                <details>
                    <summary>"How to fix it"</summary>
                    <h4>"JSON"</h4><pre class="code">{fix.json}</pre>
                    <h4>"AWS CLI"</h4><pre class="code">{fix.cli}</pre>
                    <h4>"CloudFormation / Terraform"</h4><pre class="code">{fix.iac}</pre>
                </details>
                {(fix.one_click && owner).then(|| view! { <CorsFixer connection bucket=bucket.clone()/> })}
            })}
        </li>
    }
}

/// "Fix it for me": the bucket's rules now and after, read afresh, then the change on confirm.
#[component]
fn CorsFixer(connection: i64, bucket: String) -> impl IntoView {
    let change = RwSignal::new(None::<Result<CorsChange, AppError>>);
    let asked = StoredValue::new(bucket.clone());
    let show = move |_| {
        let bucket = asked.get_value();
        leptos::task::spawn_local(async move {
            change.try_set(Some(cors_preview(connection, bucket).await));
        });
    };
    view! {
        <div class="cors-fix">
            <button type="button" on:click=show>"Fix the CORS rule…"</button>
            {move || change.get().map(|answer| match answer {
                Err(err) => view! { <ErrorNotice error=Signal::derive(move || Some(err.clone()))/> }.into_any(),
                Ok(c) if c.unchanged => view! { <p role="status">"The bucket's rules admit Crossview already: check again."</p> }.into_any(),
                Ok(c) => view! {
                    <div class="cors-diff" role="region" aria-label="The CORS change">
                        <div><h4>"Now"</h4><pre class="code">{c.before}</pre></div>
                        <div><h4>"After"</h4><pre class="code">{c.after}</pre></div>
                    </div>
                    <p class="muted">"Crossview's rule goes first (S3 uses the first rule that matches); every rule the bucket has stays, in its order."</p>
                    <form method="post" action=FixCors::PATH class="inline" data-step-up="">
                        <input type="hidden" name="id" value=connection.to_string()/>
                        <input type="hidden" name="bucket" value=c.bucket/>
                        <button type="submit" class="primary">"Apply this CORS configuration"</button>
                    </form>
                }.into_any(),
            })}
        </div>
    }
}
