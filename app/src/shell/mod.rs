//! The HTML document, the router, and the signed-in page layout (header, navigation).

#[cfg(feature = "ssr")]
pub mod csp;

use std::sync::Arc;

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Outlet, ParentRoute, Route, Router, Routes, A},
    path, SsrMode,
};

use crate::{
    account::{
        current_user, AccountPage, ConfirmPage, ForgotPasswordPage, LinkAccountPage,
        ResetPasswordPage, SecondStepPage, SignInPage, SignUpPage, StepUpGuard,
    },
    admin::{
        AdminConnectionPage, AdminConnectionsPage, AdminPage, AdminUserPage, AdminUsersPage,
        AuditTrailPage,
    },
    browse::{BrowsePage, BucketsPage},
    connections::{ConnectionPage, ConnectionsPage, NewConnectionPage},
    notices::{NoticesLink, NoticesPage},
    shares::{SharePage, SharesPage},
    ui::{page_title, BusyForms, Confirmation},
};

/// Where the page's stylesheet, script and wasm are (`/pkg/crossview.<hash>.css`…). Found once
/// when the server starts: leptos's `HashedStylesheet` and `HydrationScripts` read the hash file
/// from disk on every render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageAssets {
    pub css: String,
    pub js: String,
    pub wasm: String,
}

impl PageAssets {
    /// The names under `/{pkg}`, each `{output}.{hash}.{ext}` when `hashes` (cargo-leptos's
    /// `hash.txt`: lines `js: …`, `wasm: …`, `css: …`) names a hash for it, `{output}.{ext}`
    /// otherwise.
    pub fn new(options: &LeptosOptions, hashes: Option<&str>) -> Self {
        let name = |kind: &str| {
            let hash = hashes.into_iter().flat_map(str::lines).find_map(|line| {
                let (file, hash) = line.split_once(':')?;
                (file.trim() == kind).then(|| hash.trim())
            });
            let output = &options.output_name;
            let file = match hash {
                Some(hash) => format!("{output}.{hash}.{kind}"),
                None => format!("{output}.{kind}"),
            };
            format!("/{}/{file}", options.site_pkg_dir)
        };
        Self {
            css: name("css"),
            js: name("js"),
            wasm: name("wasm"),
        }
    }
}

/// The whole HTML document rendered on the server.
pub fn shell(options: LeptosOptions, assets: Arc<PageAssets>) -> impl IntoView {
    #[cfg(feature = "ssr")]
    csp::set_page_policy();
    let nonce = leptos::nonce::use_nonce();
    // What leptos's `HydrationScripts` runs: load the module, instantiate the wasm, hydrate.
    let hydrate = format!(
        "import({js:?}).then(m => m.default({{module_or_path: {wasm:?}}}).then(() => m.hydrate()));",
        js = assets.js,
        wasm = assets.wasm,
    );
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                // No favicon request (and no 404 in the console): an empty inline icon.
                <link rel="icon" href="data:,"/>
                <AutoReload options/>
                <link rel="stylesheet" id="leptos" href=assets.css.clone()/>
                <link rel="modulepreload" href=assets.js.clone() crossorigin="anonymous"/>
                <link rel="preload" href=assets.wasm.clone() r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/>
                <script type="module" nonce=nonce>{hydrate}</script>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=page_title/>
        <Router>
            <Routes fallback=NotFound>
                // Forms that must work without script, their options loaded first: in order.
                <Route path=path!("/sign-in") view=SignInPage ssr=SsrMode::InOrder/>
                <Route path=path!("/sign-in/code") view=SecondStepPage ssr=SsrMode::InOrder/>
                <Route path=path!("/sign-in/link") view=LinkAccountPage ssr=SsrMode::InOrder/>
                <Route path=path!("/forgot") view=ForgotPasswordPage/>
                <Route path=path!("/sign-up") view=SignUpPage/>
                <Route path=path!("/reset/:token") view=ResetPasswordPage/>
                <Route path=path!("/s/:token") view=SharePage/>
                <ParentRoute path=path!("") view=Layout>
                    <Route path=path!("") view=ConnectionsPage/>
                    <Route path=path!("connections/new") view=NewConnectionPage/>
                    <Route path=path!("connections/:id") view=ConnectionPage/>
                    <Route path=path!("c/:conn") view=BucketsPage/>
                    <Route path=path!("c/:conn/:bucket") view=BrowsePage/>
                    <Route path=path!("c/:conn/:bucket/*prefix") view=BrowsePage/>
                    <Route path=path!("shares") view=SharesPage/>
                    <Route path=path!("notices") view=NoticesPage/>
                    <Route path=path!("account") view=AccountPage/>
                    <Route path=path!("confirm") view=ConfirmPage ssr=SsrMode::InOrder/>
                    <Route path=path!("admin") view=AdminPage/>
                    <Route path=path!("admin/users") view=AdminUsersPage/>
                    <Route path=path!("admin/users/:id") view=AdminUserPage/>
                    <Route path=path!("admin/connections") view=AdminConnectionsPage/>
                    <Route path=path!("admin/connections/:id") view=AdminConnectionPage/>
                    <Route path=path!("admin/audit") view=AuditTrailPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Header and navigation around every signed-in page. The server has already redirected
/// anonymous page loads to sign-in; data calls guard themselves as well.
#[component]
fn Layout() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Crossview"</a>
            <nav aria-label="Main">
                <A href="/" exact=true>"Connections"</A>
                <A href="/shares">"Shared links"</A>
                <NoticesLink/>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let is_admin = matches!(user.await, Ok(Some(u)) if u.is_admin);
                        is_admin.then(|| view! { <A href="/admin">"Admin"</A> })
                    })}
                </Transition>
            </nav>
            <div class="who">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        user.await.ok().flatten().map(|u| view! {
                            <A href="/account" attr:class="email">{u.email}</A>
                            <form method="post" action=crate::account::SignOut::PATH>
                                <button type="submit" class="link">"Sign out"</button>
                            </form>
                        })
                    })}
                </Transition>
            </div>
        </header>
        <main class="page">
            <Confirmation/>
            <Outlet/>
        </main>
        <BusyForms/>
        <StepUpGuard/>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <main class="auth">
            <section class="card auth-card">
                <h1>"Page not found"</h1>
                <p><a href="/">"Back to your connections"</a></p>
            </section>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_names_carry_the_hashes_the_build_wrote() {
        let options = LeptosOptions::builder().output_name("crossview").build();
        let hashed = PageAssets::new(&options, Some("js: aB-1\nwasm: cD_2\ncss: eF3\n"));
        assert_eq!(hashed.js, "/pkg/crossview.aB-1.js");
        assert_eq!(hashed.wasm, "/pkg/crossview.cD_2.wasm");
        assert_eq!(hashed.css, "/pkg/crossview.eF3.css");
        // A development build (no hash file) serves the plain names.
        let plain = PageAssets::new(&options, None);
        assert_eq!(
            (plain.js.as_str(), plain.wasm.as_str(), plain.css.as_str()),
            (
                "/pkg/crossview.js",
                "/pkg/crossview.wasm",
                "/pkg/crossview.css"
            )
        );
    }
}
