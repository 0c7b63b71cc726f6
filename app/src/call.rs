//! The one way to write a server function's body (server side only).
//!
//! A body is an async closure that gets what it needs — the signed-in user and the state, or
//! only the state — and returns `Result<_, AppError>`. These wrappers do the rest: they check
//! who is signed in, answer a failure with its error's HTTP status (server functions answer 500
//! otherwise, which would make a wrong password look like a crash), and, for plain HTML forms,
//! send the browser back to the form's page with `?error=<code>` and the typed input kept.
//!
//! ```text
//! #[server(endpoint = "bucket_remove")]
//! pub async fn remove_bucket(connection: i64, name: String) -> Result<(), AppError> {
//!     call::form(location::buckets_href(connection)).signed_in(async |cx| { … }).await
//! }
//! ```

use http::{header, request::Parts};
use sqlx::PgPool;

use crate::{
    auth::ssr::SessionUser, aws::access::Target, error::AppError, state::AppState, url::encode_path,
};

/// What a signed-in body gets.
pub struct Ctx {
    pub user: SessionUser,
    pub state: AppState,
}

impl Ctx {
    pub fn pool(&self) -> &PgPool {
        &self.state.pool
    }
}

/// A body for anyone (sign-in, sign-up, who is signed in): the state only.
pub async fn anyone<T>(
    body: impl AsyncFnOnce(AppState) -> Result<T, AppError>,
) -> Result<T, AppError> {
    with_status(body(AppState::current()).await)
}

/// A body for the signed-in user; anyone else gets `Unauthorized` (401).
pub async fn signed_in<T>(
    body: impl AsyncFnOnce(Ctx) -> Result<T, AppError>,
) -> Result<T, AppError> {
    with_status(run_signed_in(Need::User, body).await)
}

/// A body for an administrator; other users get `Forbidden` (403).
pub async fn admin<T>(body: impl AsyncFnOnce(Ctx) -> Result<T, AppError>) -> Result<T, AppError> {
    with_status(run_signed_in(Need::Admin, body).await)
}

/// A body that sets up the signed-in user's second factor: the one work `REQUIRE_MFA` never
/// refuses a session without one.
pub async fn enrolling<T>(
    body: impl AsyncFnOnce(Ctx) -> Result<T, AppError>,
) -> Result<T, AppError> {
    with_status(run_signed_in(Need::Enrolling, body).await)
}

/// Who a body is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    User,
    Admin,
    Enrolling,
}

/// Refuses with `StepUpRequired` unless this session proved its user in the last 10 minutes
/// (`auth::ssr::step_up`): for what can hand over data or change who may do what.
pub async fn fresh() -> Result<(), AppError> {
    let auth = crate::auth::ssr::auth_session().await?;
    crate::auth::ssr::step_up::require(&auth).await
}

async fn run_signed_in<T>(
    need: Need,
    body: impl AsyncFnOnce(Ctx) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let auth = crate::auth::ssr::auth_session().await?;
    let user = auth.user.clone().ok_or(AppError::Unauthorized)?;
    if need == Need::Admin && !user.is_admin {
        return Err(AppError::Forbidden);
    }
    let state = AppState::current();
    if need != Need::Enrolling
        && state.config.require_mfa.refuses(need == Need::Admin)
        && !crate::auth::ssr::factors::proved(&auth).await?
    {
        return Err(AppError::SecondFactorRequired);
    }
    body(Ctx { user, state }).await
}

/// The body of every server function about one key: the signed-in user, the key checked for
/// shape, `run` on it, and the error's HTTP status on failure.
pub async fn for_key<T>(
    connection: i64,
    bucket: &str,
    key: &str,
    run: impl AsyncFnOnce(&Target<'_>) -> Result<T, AppError>,
) -> Result<T, AppError> {
    signed_in(async |cx| {
        let target = Target::new(&cx.state, cx.user.id, connection, bucket, key)?;
        run(&target).await
    })
    .await
}

/// A server function posted by a plain HTML form on `page` (a path, possibly with a query).
pub fn form(page: impl Into<String>) -> Form {
    Form {
        page: page.into(),
        keep: Vec::new(),
        fresh: false,
    }
}

/// Where a failed form post goes back to, and what the user typed that it carries back.
pub struct Form {
    page: String,
    keep: Vec<(&'static str, String)>,
    /// Needs a step-up within the last 10 minutes ([`fresh`]).
    fresh: bool,
}

impl Form {
    /// Carries `value` back as `?name=value` (skipped when empty), so nothing typed is lost.
    pub fn keep(mut self, name: &'static str, value: &str) -> Self {
        if !value.is_empty() {
            self.keep.push((name, value.to_owned()));
        }
        self
    }

    /// The action needs a fresh proof of the user ([`fresh`]); every admin form does.
    pub fn fresh(mut self) -> Self {
        self.fresh = true;
        self
    }

    /// Runs `body` for a signed-in user (`need`), after the step-up check if asked for.
    async fn run<T>(
        &self,
        need: Need,
        body: impl AsyncFnOnce(Ctx) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let fresh = self.fresh || need == Need::Admin;
        run_signed_in(need, async |cx| {
            if fresh {
                crate::call::fresh().await?;
            }
            body(cx).await
        })
        .await
    }

    pub async fn anyone<T>(
        self,
        body: impl AsyncFnOnce(AppState) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        self.back_on_error(body(AppState::current()).await)
    }

    pub async fn signed_in<T>(
        self,
        body: impl AsyncFnOnce(Ctx) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let result = self.run(Need::User, body).await;
        self.back_on_error(result)
    }

    pub async fn enrolling<T>(
        self,
        body: impl AsyncFnOnce(Ctx) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let result = self.run(Need::Enrolling, body).await;
        self.back_on_error(result)
    }

    pub async fn admin<T>(
        self,
        body: impl AsyncFnOnce(Ctx) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let result = self.run(Need::Admin, body).await;
        self.back_on_error(result)
    }

    /// A plain (un-hydrated) post gets a redirect back to the form; a hydrated caller gets the
    /// error itself, with its status.
    fn back_on_error<T>(self, result: Result<T, AppError>) -> Result<T, AppError> {
        let Err(err) = &result else {
            return result;
        };
        if !from_plain_form() {
            return with_status(result);
        }
        let kept: String = (self.keep.iter())
            .map(|(name, value)| format!("&{name}={}", encode_path(value)))
            .collect();
        let sep = if self.page.contains('?') { '&' } else { '?' };
        match err {
            // A fresh proof is asked on a page of its own, which then sends the browser back to
            // the form with what was typed (to send it again from there).
            AppError::StepUpRequired => {
                let back = match kept.strip_prefix('&') {
                    Some(kept) => format!("{}{sep}{kept}", self.page),
                    None => self.page.clone(),
                };
                redirect(&format!("/confirm?next={}", encode_path(&back)));
            }
            _ => redirect(&format!(
                "{}{sep}error={}{kept}",
                self.page,
                encode_path(&err.code())
            )),
        }
        result
    }
}

/// Sends the browser to `path` once the server function ends. Never panics, whatever the input:
/// a target that a `Location` header cannot carry (only this app's code builds targets, from
/// percent-encoded parts) is logged and replaced by `/`.
pub fn redirect(path: &str) {
    match http::HeaderValue::from_str(path) {
        Ok(_) => leptos_axum::redirect(path),
        Err(_) => {
            tracing::error!("a redirect target no header can carry; sent to / instead");
            leptos_axum::redirect("/");
        }
    }
}

/// A browser posting a form without script asks for HTML; the hydrated client asks for JSON.
fn from_plain_form() -> bool {
    leptos::prelude::use_context::<Parts>()
        .and_then(|p| {
            p.headers
                .get(header::ACCEPT)?
                .to_str()
                .ok()
                .map(|a| a.contains("text/html"))
        })
        .unwrap_or(false)
}

/// Gives a failed server function the HTTP status of its error.
fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let (Err(err), Some(res)) = (
        &result,
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
    ) {
        res.set_status(err.status());
    }
    result
}

/// The origin the person's browser is on (which a bucket's CORS rule must admit, and a link
/// made for them starts with): the request's `Origin` (a form's POST and every fetch send it),
/// else its `Host`, else `PUBLIC_URL`.
pub fn browser_origin(config: &crate::config::Config) -> String {
    let parts = leptos::prelude::use_context::<http::request::Parts>();
    let header = |name| {
        parts
            .as_ref()
            .and_then(|p| p.headers.get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if let Some(origin) = header(http::header::ORIGIN).filter(|o| o != "null") {
        return origin;
    }
    let scheme = match config.development {
        true => "http",
        false => "https",
    };
    match (header(http::header::HOST), &config.public_url) {
        (_, Some(url)) if !config.development => url.clone(),
        (Some(host), _) => format!("{scheme}://{host}"),
        (None, Some(url)) => url.clone(),
        (None, None) => String::new(),
    }
}
