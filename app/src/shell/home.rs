use leptos::prelude::*;
use leptos_meta::Title;

/// The landing page of a signed-in user: their AWS connections.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Connections"/>
        <h1>"Connections"</h1>
        <section class="card empty">
            <h2>"No AWS accounts connected yet"</h2>
            <p>
                "Crossview reaches an AWS account through an IAM role you create there. The role trusts "
                "Crossview only together with an ExternalId that Crossview generates for you, and "
                "Crossview keeps nothing but the role's ARN and that ID: no keys, no secrets."
            </p>
        </section>
    }
}
