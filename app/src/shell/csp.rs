//! Content Security Policy. Pages get a per-response nonce for Leptos's inline hydration and
//! streaming scripts; everything else gets a policy that allows nothing at all.

use http::{header::CONTENT_SECURITY_POLICY, HeaderValue};
use leptos::{nonce::use_nonce, prelude::use_context};

/// For responses that are not pages (JSON, files, redirects).
pub const NON_PAGE: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

/// Puts this render's nonce into the page's CSP header.
pub fn set_page_policy() {
    let (Some(nonce), Some(res)) = (use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce)) {
        res.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}
