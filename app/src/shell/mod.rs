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

use self::plain::{
    ForgotPasswordPage, LinkAccountPage, ResetPasswordPage, SecondStepPage, SharePage, SignInPage,
    SignUpPage,
};
use crate::{
    account::{current_user, AccountPage, ConfirmPage, StepUpGuard, PASSKEY_SCRIPT},
    admin::{
        AdminConnectionPage, AdminConnectionsPage, AdminPage, AdminUserPage, AdminUsersPage,
        AuditTrailPage,
    },
    browse::{BrowsePage, BucketsPage},
    connections::{
        doctor::DoctorPage, BulkPage, ConnectionPage, ConnectionsPage, NewConnectionPage,
    },
    notices::{NoticesLink, NoticesPage},
    search::SearchPage,
    shares::{ShareZipPage, SharesPage},
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

/// Whether the page at `path` is one a visitor meets before signing in (and its second step,
/// the forgotten-password and reset pages) or a shared link. Those are plain forms and text,
/// served without the app's script: a first visit is the page and its stylesheet, and someone
/// opening a shared link loads no application at all.
pub fn served_plain(path: &str) -> bool {
    ["/sign-in", "/sign-up", "/forgot"].contains(&path)
        || ["/sign-in/", "/reset/", "/s/"]
            .iter()
            .any(|prefix| path.starts_with(prefix))
            // A shared folder's zip is made by the app in the browser.
            && !(path.starts_with("/s/") && path.ends_with("/zip"))
}

/// What the pages [`served_plain`] run instead of the app: moving between each other without a
/// reload (links marked `data-swap`).
const PLAIN_SCRIPT: &str = include_str!("plain.js");

/// The pages [`served_plain`]: on the server the pages themselves; in the browser's build each
/// is [`FromServer`], which the app's own links reach as a full load.
#[cfg(feature = "ssr")]
mod plain {
    pub(super) use crate::{
        account::{
            ForgotPasswordPage, LinkAccountPage, ResetPasswordPage, SecondStepPage, SignInPage,
            SignUpPage,
        },
        shares::SharePage,
    };
}
#[cfg(not(feature = "ssr"))]
mod plain {
    pub(super) use super::FromServer as ForgotPasswordPage;
    pub(super) use super::FromServer as LinkAccountPage;
    pub(super) use super::FromServer as ResetPasswordPage;
    pub(super) use super::FromServer as SecondStepPage;
    pub(super) use super::FromServer as SharePage;
    pub(super) use super::FromServer as SignInPage;
    pub(super) use super::FromServer as SignUpPage;
}

/// A page [`served_plain`] reached by a link inside the hydrated app: the browser has no code
/// for it, so it loads it from the server. Once the router has recorded the page in the history
/// (it does so after this renders), the load replaces that entry: Back returns to the app.
#[cfg(not(feature = "ssr"))]
#[component]
fn FromServer() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let location = leptos_router::hooks::use_location();
        let (search, hash) = (
            location.search.get_untracked(),
            location.hash.get_untracked(),
        );
        let target = format!(
            "{}{}{search}{}",
            location.pathname.get_untracked(),
            if search.is_empty() { "" } else { "?" },
            match hash.is_empty() || hash.starts_with('#') {
                true => hash,
                false => format!("#{hash}"),
            }
        );
        set_timeout(
            move || {
                if let Some(window) = web_sys::window() {
                    let _ = window.location().replace(&target);
                }
            },
            std::time::Duration::ZERO,
        );
    }
}

/// The whole HTML document rendered on the server.
pub fn shell(options: LeptosOptions, assets: Arc<PageAssets>) -> impl IntoView {
    #[cfg(feature = "ssr")]
    csp::set_page_policy();
    #[cfg(feature = "ssr")]
    let scripted = use_context::<http::request::Parts>()
        .is_none_or(|request| !served_plain(request.uri.path()));
    #[cfg(not(feature = "ssr"))]
    let scripted = true;
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
                {match scripted {
                    true => view! {
                        <link rel="modulepreload" href=assets.js.clone() crossorigin="anonymous"/>
                        <link rel="preload" href=assets.wasm.clone() r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/>
                        <script type="module" nonce=nonce>{hydrate}</script>
                    }.into_any(),
                    false => view! {
                        <script type="module" nonce=nonce.clone()>{PLAIN_SCRIPT}</script>
                        <script type="module" nonce=nonce>{PASSKEY_SCRIPT}</script>
                    }.into_any(),
                }}
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
                // Served without script (`served_plain`): whole, in order, with their data.
                <Route path=path!("/sign-in") view=SignInPage ssr=SsrMode::InOrder/>
                <Route path=path!("/sign-in/code") view=SecondStepPage ssr=SsrMode::InOrder/>
                <Route path=path!("/sign-in/link") view=LinkAccountPage ssr=SsrMode::InOrder/>
                <Route path=path!("/forgot") view=ForgotPasswordPage ssr=SsrMode::InOrder/>
                <Route path=path!("/sign-up") view=SignUpPage ssr=SsrMode::InOrder/>
                <Route path=path!("/reset/:token") view=ResetPasswordPage ssr=SsrMode::InOrder/>
                <Route path=path!("/s/:token") view=SharePage ssr=SsrMode::InOrder/>
                <Route path=path!("/s/:token/zip") view=ShareZipPage/>
                <ParentRoute path=path!("") view=Layout>
                    <Route path=path!("") view=ConnectionsPage/>
                    <Route path=path!("connections/new") view=NewConnectionPage/>
                    <Route path=path!("connections/bulk") view=BulkPage/>
                    <Route path=path!("connections/:id") view=ConnectionPage/>
                    <Route path=path!("connections/:id/doctor") view=DoctorPage/>
                    <Route path=path!("c/:conn") view=BucketsPage/>
                    <Route path=path!("c/:conn/:bucket") view=BrowsePage/>
                    <Route path=path!("c/:conn/:bucket/*prefix") view=BrowsePage/>
                    <Route path=path!("search/:conn/:bucket") view=SearchPage/>
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
    fn the_pages_before_signing_in_and_shared_links_are_served_plain() {
        for path in [
            "/sign-in",
            "/sign-in/code",
            "/sign-in/link",
            "/sign-up",
            "/forgot",
            "/reset/abc",
            "/s/token",
        ] {
            assert!(served_plain(path), "{path}");
        }
        for path in [
            "/",
            "/shares",
            "/sign-inx",
            "/signup",
            "/account",
            "/c/1/bucket/s/",
            "/s/token/zip",
        ] {
            assert!(!served_plain(path), "{path}");
        }
    }

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
