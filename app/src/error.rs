//! The one error type every server function returns.
//!
//! Variants carry no internal detail: SQL and AWS causes are logged once, where they are mapped,
//! and reach the browser only as an opaque reference id.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", content = "detail")]
pub enum AppError {
    #[error("Please sign in to continue.")]
    Unauthorized,
    #[error("Only administrators can do that.")]
    Forbidden,
    #[error("That page or item does not exist.")]
    NotFound,
    #[error("Enter a valid email address, like name@example.com.")]
    EmailInvalid,
    #[error("An account with this email already exists. Sign in instead.")]
    EmailTaken,
    #[error("Use a password of at least 10 characters.")]
    PasswordTooShort,
    #[error("Use a password of at most 1024 characters.")]
    PasswordTooLong,
    #[error("The two new passwords do not match.")]
    PasswordMismatch,
    #[error("Your current password is not correct.")]
    WrongCurrentPassword,
    #[error("Email or password is incorrect.")]
    BadCredentials,
    #[error("This account is disabled. Ask an administrator to enable it.")]
    AccountDisabled,
    #[error("Too many sign-in attempts. Wait 15 minutes, then try again.")]
    RateLimited,
    #[error("Sign-up is closed on this deployment. Ask an administrator for an account.")]
    SignupClosed,
    #[error("Crossview cannot reach its database right now. Try again in a moment.")]
    Unavailable,
    #[error("Something went wrong on our side (reference {0}).")]
    Internal(String),
    #[error("The request could not be completed: {0}")]
    Request(String),
}

impl AppError {
    /// A short stable name, used to carry an error through a plain-form redirect (`?error=code`).
    pub fn code(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned))
            .unwrap_or_default()
    }

    /// The inverse of [`AppError::code`], for variants without detail only, so that a crafted URL
    /// can show nothing but one of our own fixed messages.
    pub fn from_code(code: &str) -> Option<Self> {
        serde_json::from_value(serde_json::json!({ "code": code })).ok()
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request(value.to_string())
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use rand::Rng;

    use super::AppError;

    impl AppError {
        /// Logs an internal cause once, with a fresh reference id that the user can quote.
        pub fn internal(cause: impl std::fmt::Display) -> Self {
            let id = format!("{:08x}", rand::thread_rng().gen::<u32>());
            tracing::error!(reference = %id, "internal error: {cause}");
            AppError::Internal(id)
        }
    }

    impl From<sqlx::Error> for AppError {
        fn from(err: sqlx::Error) -> Self {
            match err {
                // The database being away is an expected, recoverable state, not a bug.
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                    tracing::warn!("database unavailable: {err}");
                    AppError::Unavailable
                }
                other => AppError::internal(other),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_for_plain_variants() {
        for err in [
            AppError::EmailTaken,
            AppError::RateLimited,
            AppError::BadCredentials,
        ] {
            assert_eq!(AppError::from_code(&err.code()), Some(err));
        }
    }

    #[test]
    fn codes_cannot_smuggle_text() {
        assert_eq!(AppError::from_code("Internal"), None);
        assert_eq!(AppError::from_code("Request"), None);
        assert_eq!(AppError::from_code("<script>"), None);
    }
}
