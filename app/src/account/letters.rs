//! The messages the account sends when the deployment sends email (`SMTP_URL`): each says what
//! happened, from where, and what to do if it was not the owner.

use crate::{
    auth::ssr,
    config::Config,
    mail::{self, Letter},
    state::AppState,
};

/// Sends `letter` if the deployment sends email.
fn send(config: &Config, letter: Letter) {
    if let Some(mail) = &config.mail {
        mail::send_later(mail, letter);
    }
}

fn link(config: &Config, label: &str, path: &str) -> Option<(String, String)> {
    let base = config.public_url.as_deref()?;
    Some((label.to_owned(), format!("{base}{path}")))
}

/// What to do if it was not them.
const NOT_YOU: &str = "If this was not you, change your password and sign out your other sessions on your account page.";

/// A reset link the owner asked for.
pub fn reset(config: &Config, to: String, path: &str) {
    let letter = Letter {
        to,
        subject: "Reset your Crossview password".into(),
        paragraphs: vec![
            "Someone (we hope you) asked to reset the password of this Crossview account. The link below sets a new one; it works once, within 30 minutes, and signs you out everywhere else.".into(),
            "If you did not ask for it, ignore this message: your password stays as it is.".into(),
        ],
        link: link(config, "Choose a new password", path),
    };
    send(config, letter);
}

/// A sign-in from a browser that had not signed in to the account before.
pub async fn new_sign_in(state: &AppState, to: &str, method: &str) {
    let browser = ssr::describe_browser(&ssr::user_agent());
    let from = ssr::client_address(&state.config)
        .await
        .map_or(String::new(), |a| format!(" from {a}"));
    let letter = Letter {
        to: to.to_owned(),
        subject: "A new sign-in to your Crossview account".into(),
        paragraphs: vec![
            format!("Your account was signed in to with {method}, in {browser}{from}: a browser that had not signed in to it before."),
            NOT_YOU.into(),
        ],
        link: link(&state.config, "Your account", "/account#sessions"),
    };
    send(&state.config, letter);
}

/// Two-step sign-in turned on or off.
pub fn two_step(config: &Config, to: &str, on: bool) {
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
        to: to.to_owned(),
        subject: subject.into(),
        paragraphs: vec![what.into(), NOT_YOU.into()],
        link: link(config, "Your account", "/account#two-step"),
    };
    send(config, letter);
}

/// A passkey (`what`) added to the account or removed from it.
pub fn factor(config: &Config, to: &str, what: &str, added: bool) {
    let (subject, done) = match added {
        true => ("A passkey was added to your account", "added to"),
        false => ("A passkey was removed from your account", "removed from"),
    };
    let letter = Letter {
        to: to.to_owned(),
        subject: subject.into(),
        paragraphs: vec![
            format!(
                "{what} was {done} your Crossview account, and its other sessions were signed out."
            ),
            NOT_YOU.into(),
        ],
        link: link(config, "Your account", "/account#passkeys"),
    };
    send(config, letter);
}
