//! Who is signed in: the session layer's user, password hashing and the account queries, and
//! the sign-in limits. Shared plumbing: the account pages (`account`) and every server function
//! (through `call`) use it.

#[cfg(feature = "ssr")]
pub mod ssr;

use serde::{Deserialize, Serialize};

/// The signed-in user as the browser may see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
}

/// Where an account's two-step sign-in stands, as its account page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoStep {
    /// An authenticator app is confirmed: sign-in asks for its code.
    pub on: bool,
    /// A setup was started and not yet confirmed.
    pub setting_up: bool,
    pub recovery_codes_left: i64,
    /// The account has a password to confirm changes with (one made by single sign-on has
    /// none: a recent sign-in confirms them instead).
    pub password: bool,
}

/// An authenticator app being set up: its secret as a QR code and as text (for apps without a
/// camera).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatorSetup {
    pub secret: String,
    pub uri: String,
    /// An `<svg>` element drawn from `uri` alone: no user text is in it as text.
    pub qr_svg: String,
}

/// One of the user's signed-in sessions, as the account page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Names the session to end it: a digest of its id, never the id.
    pub handle: String,
    /// "Firefox on Linux".
    pub browser: String,
    pub address: Option<String>,
    /// RFC 3339, UTC.
    pub signed_in_at: Option<String>,
    pub last_seen: String,
    /// How it signed in (`password`, `password+totp`, …), where known.
    pub method: Option<String>,
    /// The session of the browser asking.
    pub current: bool,
}

/// One of the user's passkeys, as the account page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyInfo {
    pub id: i64,
    pub name: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// How the signed-in user can confirm it is them before a sensitive action (step-up).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepUpOptions {
    /// A code from their authenticator app (or a recovery code).
    pub code: bool,
    pub passkey: bool,
    /// Their password: only for an account without a second factor.
    pub password: bool,
    /// Providers to sign in through again (id, label): an account without either.
    pub sso: Vec<(String, String)>,
    /// The session proved its user within the last 10 minutes already.
    pub fresh: bool,
}
