//! Plain HTML forms posting to server functions: they work before hydration, and an error comes
//! back to the form's page as `?error=<code>` (see `call::form`), which the page turns into one
//! of our own messages.

use leptos::prelude::*;

use crate::{error::AppError, iam::Action, url::use_query};

/// The error a plain-form post was redirected back with, if any.
pub fn error_from_query() -> Signal<Option<AppError>> {
    let query = use_query();
    Signal::derive(move || query.read().get("error").and_then(AppError::from_code))
}

/// The error for one section of a page with several forms: `Some(name)` when the query names
/// that `section`, `None` when it names none (the page's own forms).
pub fn section_error(section: Option<&'static str>) -> Signal<Option<AppError>> {
    let query = use_query();
    let error = error_from_query();
    Signal::derive(move || {
        let ours = query.read().get("section") == section;
        error.get().filter(|_| ours)
    })
}

/// The same for a plain request that S3 may refuse (a form post, a download link). A refusal
/// carries only its code: the page knows which `action` on which `resource` it asked for.
pub fn refusal_from_query(
    action: Action,
    resource: impl Fn() -> String + Send + Sync + 'static,
) -> Signal<Option<AppError>> {
    let query = use_query();
    let coded = error_from_query();
    Signal::derive(move || match coded.get() {
        None if query.read().get("error") == Some("Denied") => Some(AppError::Denied {
            action,
            resource: resource(),
        }),
        other => other,
    })
}

/// What a plain form's post did, named in the page it was sent back to (`?notice=<code>`), in
/// words; announced by [`crate::ui::Confirmation`]. Unknown codes say nothing.
pub fn notice_from_query() -> Signal<Option<&'static str>> {
    let query = use_query();
    Signal::derive(move || {
        Some(match query.read().get("notice")? {
            "access" => "Saved: what Crossview may do through this connection.",
            "renamed" => "Renamed.",
            "endpoints" => "Endpoints saved. Verify the connection again to use them.",
            "checked" => "Verification finished: its result is below.",
            _ => return None,
        })
    })
}
