//! "Rotate ExternalId" on a verified connection's page: start (a new ID, and the trust policy
//! that admits both), verify and switch, or cancel; afterwards, the retired ID to remove.

use leptos::{prelude::*, server_fn::ServerFn};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::call;
use crate::{
    error::AppError,
    ui::{CopyBlock, CopyButton, ErrorNotice},
};

/// Where a connection's ExternalId rotation stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub current: String,
    /// The new ID, while a rotation is under way.
    pub next: Option<String>,
    /// The ID the last rotation retired (the role should no longer admit it).
    pub last_retired: Option<String>,
    /// The trust policy the role should have now: both IDs while a rotation is under way.
    pub trust_policy: String,
}

#[server(endpoint = "connection_rotation")]
pub async fn rotation_state(id: i64) -> Result<Rotation, AppError> {
    call::signed_in(async |cx| super::ssr::rotation::state(&cx.state, cx.user.id, id).await).await
}

#[server(endpoint = "connection_rotation_start")]
pub async fn start_rotation(id: i64) -> Result<(), AppError> {
    call::form(format!("/connections/{id}"))
        .fresh()
        .signed_in(async |cx| {
            super::ssr::rotation::start(cx.pool(), cx.user.id, id).await?;
            call::redirect(&format!("/connections/{id}?notice=rotating#rotation"));
            Ok(())
        })
        .await
}

#[server(endpoint = "connection_rotation_finish")]
pub async fn finish_rotation(id: i64) -> Result<(), AppError> {
    call::form(format!("/connections/{id}"))
        .fresh()
        .signed_in(async |cx| {
            super::ssr::rotation::finish(&cx.state, cx.user.id, id).await?;
            call::redirect(&format!("/connections/{id}?notice=rotated#rotation"));
            Ok(())
        })
        .await
}

#[server(endpoint = "connection_rotation_cancel")]
pub async fn cancel_rotation(id: i64) -> Result<(), AppError> {
    call::form(format!("/connections/{id}"))
        .signed_in(async |cx| {
            super::ssr::rotation::cancel(cx.pool(), cx.user.id, id).await?;
            call::redirect(&format!("/connections/{id}#rotation"));
            Ok(())
        })
        .await
}

#[component]
pub fn RotationSection(connection: i64) -> impl IntoView {
    let state = Resource::new(move || connection, rotation_state);
    let id = connection.to_string();
    view! {
        <section class="card" id="rotation" aria-label="ExternalId rotation">
            <h2>"Rotate the ExternalId"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let id = id.clone();
                    Suspend::new(async move {
                        match state.await {
                            Err(err) => view! { <ErrorNotice error=Some(err)/> }.into_any(),
                            Ok(r) => view! { <RotationView rotation=r id/> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn RotationView(rotation: Rotation, id: String) -> impl IntoView {
    let Some(next) = rotation.next.clone() else {
        return view! {
            {rotation.last_retired.map(|old| view! {
                <p class="notice" role="status">
                    "Crossview uses the new ExternalId. Remove the old one, "<code>{old.clone()}</code>", from the role's trust policy: this one admits only the current ID. The connection doctor flags a role that still admits a retired one."
                </p>
                <CopyBlock text=rotation.trust_policy.clone() label="Copy trust policy"/>
            })}
            <p class="muted">"A new ExternalId replaces this one without downtime: the role admits both while you update it, Crossview verifies the new one, switches, and never gives the old one again."</p>
            <form method="post" action=StartRotation::PATH class="inline" data-step-up="">
                <input type="hidden" name="id" value=id/>
                <button type="submit">"Start rotating"</button>
            </form>
        }
        .into_any();
    };
    let terraform = format!(
        "  external_id           = \"{next}\"\n  previous_external_ids = [\"{}\"]\n",
        rotation.current
    );
    view! {
        <p>"New ExternalId: "<code class="next-external-id">{next.clone()}</code><CopyButton text=next.clone() label="Copy new ExternalId"/></p>
        <ol class="steps">
            <li>
                <p>"Put this trust policy on the role: it admits the new ExternalId and the current one, so nothing stops meanwhile."</p>
                <CopyBlock text=rotation.trust_policy.clone() label="Copy trust policy with both IDs"/>
                <details><summary>"With Terraform"</summary><pre class="code">{terraform}</pre></details>
            </li>
            <li>
                <p>"Then let Crossview verify the new one and switch to it."</p>
                <form method="post" action=FinishRotation::PATH class="inline" data-step-up="">
                    <input type="hidden" name="id" value=id.clone()/>
                    <button type="submit" class="primary">"Verify the new ExternalId and switch"</button>
                </form>
                <form method="post" action=CancelRotation::PATH class="inline">
                    <input type="hidden" name="id" value=id/>
                    <button type="submit">"Cancel the rotation"</button>
                </form>
            </li>
        </ol>
    }
    .into_any()
}
