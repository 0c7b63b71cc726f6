//! A share link's actions outside its landing page (`/s/<token>`, a page of the app): a file's
//! download (a redirect to a presigned URL made just now), a password typed for one, and a
//! password given once for a folder. Open to anyone holding the link; never cached (a redirect's
//! URL expires). Refusals are plain pages with their status, or the landing page again with
//! what was wrong (a form's answer).

use std::{collections::HashMap, net::SocketAddr};

use app::{
    auth::ssr::{client_address_of, AuthSession},
    error::AppError,
    shares::ssr::{folder, open, Visit},
    state::AppState,
};
use axum::{
    extract::{ConnectInfo, Form, Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{Html, IntoResponse, Response},
    Extension,
};

use crate::refusal_page;

type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// Who holds the link in this request: the client's address (as the deployment's proxy
/// settings let it be told), who is signed in, the links this browser unlocked.
async fn visit(state: &AppState, auth: &AuthSession, headers: &HeaderMap, peer: Peer) -> Visit {
    let peer = peer.map(|Extension(ConnectInfo(peer))| peer);
    Visit::of(auth, client_address_of(&state.config, headers, peer)).await
}

const NO_STORE: [(header::HeaderName, &str); 1] = [(header::CACHE_CONTROL, "no-store")];

/// `GET /s/<token>/download`: the link's object, or with `?file=<name>` one file of a folder
/// link; a redirect to it, or a page saying why not.
pub async fn download(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    auth: AuthSession,
    peer: Peer,
    headers: HeaderMap,
) -> Response {
    let visit = visit(&state, &auth, &headers, peer).await;
    let (address, visitor) = (visit.address.as_deref(), visit.visitor.as_ref());
    let result = match query.get("file") {
        None => open(&state, &token, address, visitor, None).await,
        Some(file) => folder::file(&state, &token, &visit.holder(None), file).await,
    };
    match result {
        Ok(url) => (StatusCode::FOUND, NO_STORE, [(header::LOCATION, url)]).into_response(),
        Err(err) => (NO_STORE, refusal_page("This link does not work", &err)).into_response(),
    }
}

/// `POST /s/<token>/download` (field `password`): a page that starts the download, or back to
/// the landing page with what was wrong (the password is never put in the address).
pub async fn with_password(
    State(state): State<AppState>,
    Path(token): Path<String>,
    auth: AuthSession,
    peer: Peer,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let visit = visit(&state, &auth, &headers, peer).await;
    let password = form.get("password").map(String::as_str);
    let (address, visitor) = (visit.address.as_deref(), visit.visitor.as_ref());
    match open(&state, &token, address, visitor, password).await {
        // A form's own redirect may not leave the site (CSP form-action 'self'): a page that
        // opens the download instead.
        Ok(url) => {
            let url = app::ui::escape_html(&url);
            let page = format!(
                "<!DOCTYPE html><html lang=\"en\"><meta charset=\"utf-8\">\
                 <meta http-equiv=\"refresh\" content=\"0; url={url}\"><title>Crossview</title>\
                 <body><h1>Your download is starting</h1><p>If it does not, \
                 <a href=\"{url}\">download the file</a> (the link works for a few minutes).</p></body></html>"
            );
            (NO_STORE, Html(page)).into_response()
        }
        Err(err) => back(&token, err),
    }
}

/// `POST /s/<token>/unlock` (field `password`): a folder link's password, given once for this
/// browser's session; back to the landing page, which now lists the folder.
pub async fn unlock(
    State(state): State<AppState>,
    Path(token): Path<String>,
    auth: AuthSession,
    peer: Peer,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let visit = visit(&state, &auth, &headers, peer).await;
    let holder = visit.holder(form.get("password").map(String::as_str));
    let result = match folder::unlock(&state, &token, &holder).await {
        Ok(id) => visit.remember_unlock(&auth, id).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => see_other(format!("/s/{}", app::url::encode_path(&token))),
        Err(err) => back(&token, err),
    }
}

/// Back to the landing page with the refusal's code, when the page can say it; else a plain page.
fn back(token: &str, err: AppError) -> Response {
    match AppError::from_code(&err.code()) {
        Some(_) => see_other(format!(
            "/s/{}?error={}",
            app::url::encode_path(token),
            err.code()
        )),
        None => (NO_STORE, refusal_page("This link does not work", &err)).into_response(),
    }
}

fn see_other(location: String) -> Response {
    (
        StatusCode::SEE_OTHER,
        NO_STORE,
        [(header::LOCATION, location)],
    )
        .into_response()
}
