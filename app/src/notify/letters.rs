//! The words of every notice: each says what happened, from where, and what to do if it was not
//! the owner. A notice is kept in the account's list and emailed (see [`super::ssr`]); a reset
//! link and an invitation to an address are emailed only.

use super::{email, tell};
use crate::{auth::ssr, config::Config, location::object_href, mail::Letter, state::AppState};

fn link(label: &str, path: impl Into<String>) -> Option<(String, String)> {
    Some((label.to_owned(), path.into()))
}

/// What to do if it was not them.
const NOT_YOU: &str = "If this was not you, change your password and sign out your other sessions on your account page.";

/// A reset link the owner asked for: emailed, never kept (it is a secret until used).
pub fn reset(config: &Config, to: String, path: &str) {
    let letter = Letter {
        subject: "Reset your Crossview password".into(),
        paragraphs: vec![
            "Someone (we hope you) asked to reset the password of this Crossview account. The link below sets a new one; it works once, within 30 minutes, and signs you out everywhere else.".into(),
            "If you did not ask for it, ignore this message: your password stays as it is.".into(),
        ],
        link: link("Choose a new password", path),
    };
    email(config, to, letter);
}

/// A sign-in from a browser that had not signed in to the account before.
pub async fn new_sign_in(state: &AppState, user: i64, method: &str) {
    let browser = ssr::describe_browser(&ssr::user_agent());
    let from = ssr::client_address(&state.config)
        .await
        .map_or(String::new(), |a| format!(" from {a}"));
    let letter = Letter {
        subject: "A new sign-in to your Crossview account".into(),
        paragraphs: vec![
            format!("Your account was signed in to with {method}, in {browser}{from}: a browser that had not signed in to it before."),
            NOT_YOU.into(),
        ],
        link: link("Your account", "/account#sessions"),
    };
    tell(state, user, letter).await;
}

/// Two-step sign-in turned on or off.
pub async fn two_step(state: &AppState, user: i64, on: bool) {
    let (subject, what) = match on {
        true => (
            "Two-step sign-in is on",
            "An authenticator app was added to your Crossview account: signing in now asks for its code.",
        ),
        false => (
            "Two-step sign-in is off",
            "The authenticator app and recovery codes were removed from your Crossview account: signing in asks only for the password.",
        ),
    };
    let letter = Letter {
        subject: subject.into(),
        paragraphs: vec![what.into(), NOT_YOU.into()],
        link: link("Your account", "/account#two-step"),
    };
    tell(state, user, letter).await;
}

/// A passkey (`what`) added to the account or removed from it.
pub async fn factor(state: &AppState, user: i64, what: &str, added: bool) {
    let (subject, done) = match added {
        true => ("A passkey was added to your account", "added to"),
        false => ("A passkey was removed from your account", "removed from"),
    };
    let letter = Letter {
        subject: subject.into(),
        paragraphs: vec![
            format!(
                "{what} was {done} your Crossview account, and its other sessions were signed out."
            ),
            NOT_YOU.into(),
        ],
        link: link("Your account", "/account#passkeys"),
    };
    tell(state, user, letter).await;
}

/// What an administrator did to a connection, told to its owner.
pub enum AdminChange {
    Disabled,
    Enabled,
    /// The re-check's result: `None` verified, or what failed.
    Rechecked(Option<String>),
    Deleted,
}

pub async fn connection_changed(
    state: &AppState,
    owner: i64,
    (id, name): (i64, &str),
    change: AdminChange,
) {
    let path = match change {
        AdminChange::Deleted => "/".to_owned(),
        _ => format!("/connections/{id}"),
    };
    let (subject, what) = match change {
        AdminChange::Disabled => (
            "An administrator disabled your connection",
            format!("An administrator disabled your connection “{name}”: nobody can browse through it until it is enabled again."),
        ),
        AdminChange::Enabled => (
            "An administrator enabled your connection",
            format!("An administrator enabled your connection “{name}” again: it works as it did before it was disabled."),
        ),
        AdminChange::Rechecked(None) => (
            "An administrator re-checked your connection",
            format!("An administrator re-checked your connection “{name}”: the role still trusts Crossview only with its ExternalId, and it is verified."),
        ),
        AdminChange::Rechecked(Some(problem)) => (
            "Your connection failed a re-check",
            format!("An administrator re-checked your connection “{name}” and it failed: {problem} It cannot be used until you fix the role and verify it again."),
        ),
        AdminChange::Deleted => (
            "An administrator deleted your connection",
            format!("An administrator deleted your connection “{name}”: Crossview forgot its role ARN and ExternalId. The role in your AWS account stays until you delete it there."),
        ),
    };
    let letter = Letter {
        subject: subject.into(),
        paragraphs: vec![
            what,
            "Ask your Crossview administrator if you do not know why.".into(),
        ],
        link: link("Your connections", path),
    };
    tell(state, owner, letter).await;
}

/// An invitation to a place in a bucket, to an address: kept for its account, if there is
/// one, and emailed either way.
pub async fn invitation(
    state: &AppState,
    to: (Option<i64>, String),
    grantor: &str,
    place: &str,
    writable: bool,
) {
    let access = match writable {
        true => "read and write",
        false => "read-only",
    };
    let letter = Letter {
        subject: format!("{grantor} shared a place in S3 with you"),
        paragraphs: vec![
            format!("{grantor} invited you to {access} access to {place} in Crossview."),
            "Sign in with this address (or sign up with it, if you have no account yet) and accept the invitation on your connections page. Nothing is shared until you accept.".into(),
        ],
        link: link("Your invitations", "/#invitations"),
    };
    match to {
        (Some(user), _) => tell(state, user, letter).await,
        (None, address) => email(&state.config, address, letter),
    }
}

/// A share link its owner asked to hear about was opened.
pub async fn share_opened(
    state: &AppState,
    owner: i64,
    (connection, bucket, key): (i64, &str, &str),
    from: Option<&str>,
) {
    let from = from.map_or(String::new(), |a| format!(" from {a}"));
    let letter = Letter {
        subject: "Your share link was opened".into(),
        paragraphs: vec![
            format!("Your share link to s3://{bucket}/{key} was opened{from}. You are told at most once an hour for a link."),
            "Revoke it under Shared links if it reached someone it should not have.".into(),
        ],
        link: link("The object", object_href(connection, bucket, key)),
    };
    tell(state, owner, letter).await;
}
