//! The site's own files under `/pkg` (wasm, JS, CSS), and the libraries under `/vendor` that
//! previews load when they need them (`public/vendor`). With content-hashed names (cargo-leptos
//! `hash-files`) a name never changes meaning, so browsers and CDNs keep a file for a year without
//! asking again; without them (a development build) they must ask every time. Each file is
//! served precompressed, brotli or gzip by `Accept-Encoding`, from the `.br`/`.gz` copies the
//! release build writes beside it: nothing is compressed per request.

use axum::{
    body::Body,
    http::{header, HeaderValue, Response},
    Router,
};
use std::path::PathBuf;

use app::shell::PageAssets;
use leptos::config::LeptosOptions;
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

const HASHED: &str = "public, max-age=31536000, immutable";
const UNHASHED: &str = "no-cache";

/// A folder of the site as a service: `/pkg` (the site's own files), `vendor` (the preview
/// renderers, each named with its version, so as cacheable as a hashed name), `stream` (the
/// zip's service worker; browsers check a worker's script for updates past any cache).
pub fn service(options: &LeptosOptions, folder: &str) -> Router {
    let folder = format!("{}/{folder}", options.site_root);
    let policy = HeaderValue::from_static(match options.hash_files {
        true => HASHED,
        false => UNHASHED,
    });
    let files = ServeDir::new(folder)
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .fallback_service(files)
        // Only a file found is cacheable: a 404 for a name that a newer deploy will have must not
        // be remembered.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            move |res: &Response<Body>| res.status().is_success().then(|| policy.clone()),
        ))
}

/// Whether cargo-leptos left the assets' hashes beside this executable (its `hash-files`
/// setting): then pages name the hashed files.
pub fn hashed_beside_exe(options: &LeptosOptions) -> bool {
    hash_file(options).is_some_and(|path| path.exists())
}

/// The names pages give the stylesheet, script and wasm, read from the hash file once (when the
/// router is built) rather than on every render.
pub fn page(options: &LeptosOptions) -> PageAssets {
    let hashes = match options.hash_files {
        false => None,
        true => {
            let read = hash_file(options).map(std::fs::read_to_string);
            if !matches!(read, Some(Ok(_))) {
                tracing::error!("hash-files is on but the hash file beside the server is missing");
            }
            read.and_then(Result::ok)
        }
    };
    PageAssets::new(options, hashes.as_deref())
}

fn hash_file(options: &LeptosOptions) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join(options.hash_file.as_ref()))
}
