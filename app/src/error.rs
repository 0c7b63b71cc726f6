//! The one error type every server function returns.
//!
//! Variants carry no internal detail: SQL and AWS causes are logged once, where they are mapped,
//! and reach the browser only as an opaque reference id.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

use crate::iam::Action;

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
    #[error("Use a password of at least 12 characters.")]
    PasswordTooShort,
    #[error("Use a password of at most 128 characters.")]
    PasswordTooLong,
    #[error("That password is too easy to guess: it is a common or breached password, a simple pattern (a keyboard row, a date, repeats) or built from your email. A few unrelated words make a strong one.")]
    PasswordCommon,
    #[error("The two new passwords do not match.")]
    PasswordMismatch,
    #[error("Your current password is not correct.")]
    WrongCurrentPassword,
    #[error("Email or password is incorrect.")]
    BadCredentials,
    #[error("This account is disabled. Ask an administrator to enable it.")]
    AccountDisabled,
    #[error("Too many attempts. Wait 15 minutes, then try again.")]
    RateLimited,
    /// One user's requests to AWS outran their allowance (`ASSUMPTIONS_PER_USER_PER_MINUTE`).
    #[error("You are asking AWS faster than Crossview allows one person to. Wait a minute, then try again.")]
    TooFast,
    #[error("Crossview is busy checking other passwords. Try again in a moment.")]
    Busy,
    #[error("Sign-up is closed on this deployment. Ask an administrator for an account.")]
    SignupClosed,
    /// A setup token that is not the deployment's, or one offered after its first administrator.
    #[error("That setup token is not valid here, or this deployment already has an administrator. Leave the field empty to sign up as anyone else does.")]
    BootstrapRefused,
    #[error("At least one administrator must remain: make someone else an administrator first.")]
    LastAdmin,
    #[error("Give the connection a name of 1 to 100 characters.")]
    ConnectionNameInvalid,
    #[error("That ExternalId is not allowed: use 2 to 1224 of the characters A-Z a-z 0-9 + = , . @ : / - _")]
    ExternalIdInvalid,
    #[error("That ExternalId is already in use on this deployment. Choose another.")]
    ExternalIdTaken,
    #[error(
        "That is not a role ARN. It looks like arn:aws:iam::123456789012:role/crossview-access"
    )]
    ArnFormat,
    #[error("The ARN's partition must be aws, aws-cn or aws-us-gov (the part after arn:).")]
    ArnPartition,
    #[error("That ARN is not for IAM: a role ARN reads arn:aws:iam::…")]
    ArnService,
    #[error("IAM ARNs have no region: the part between iam: and the account must be empty (iam::123456789012).")]
    ArnRegion,
    #[error("The account in the ARN must be exactly 12 digits.")]
    ArnAccount,
    #[error("That ARN names something other than a role: it should continue with :role/ and the role's name.")]
    ArnNotRole,
    #[error("The role name must be 1 to 64 of the characters A-Z a-z 0-9 + = , . @ _ -")]
    ArnRoleName,
    #[error(
        "The role path must start and end with / and use printable ASCII, at most 512 characters."
    )]
    ArnRolePath,
    #[error("Paste the ARN of the role you created before verifying.")]
    RoleArnMissing,
    #[error("This connection is not verified yet. Verify it before using it.")]
    ConnectionNotVerified,
    #[error("The role does not admit the new ExternalId yet: put the trust policy with both IDs on it (step 1), then verify again. Nothing changed: Crossview still uses the current ID.")]
    NextExternalIdNotAdmitted,
    #[error("No ExternalId rotation is under way on this connection: start one first.")]
    NoRotation,
    #[error("That is not a bucket name: use 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit.")]
    BucketNameInvalid,
    #[error("An endpoint must be an https URL like https://minio.example.com:9000: a host name or IP address and a port, without a path, query, user name or wildcard.")]
    EndpointInvalid,
    #[error("This deployment does not send requests to that endpoint: its host is not in the operator's list (CUSTOM_ENDPOINT_HOSTS), or it is a private, loopback or link-local address the list does not name.")]
    EndpointNotAllowed,
    #[error("Crossview cannot resolve that endpoint's host name.")]
    EndpointUnresolvable,
    #[error("Object keys must be 1 to 1024 bytes long.")]
    KeyInvalid,
    #[error("A folder name must be 1 to 1024 bytes and cannot contain /.")]
    FolderNameInvalid,
    #[error("That file is larger than this deployment accepts (at most {max}).")]
    UploadTooLarge { max: String },
    #[error("This deployment accepts only these kinds of file: {allowed}.")]
    UploadTypeRefused { allowed: String },
    #[error("The parts sent add up to {sent}, not the {declared} this upload was started with, so it was cancelled. Upload the file again.")]
    UploadSizeMismatch { sent: String, declared: String },
    #[error("An object with this name was created in the meantime, so nothing was overwritten. Upload the file again to choose: replace it, keep both or skip.")]
    ObjectExists,
    #[error("Type the folder's name exactly to confirm.")]
    ConfirmationMismatch,
    #[error("Check the search: times read 2026-03-01 or 2026-03-01T14:30 (UTC), a connection is its number, an account 12 digits, and the outcome ok, refused or failed.")]
    SearchInvalid,
    #[error(
        "An administrator disabled this connection: nobody can use it until it is enabled again."
    )]
    ConnectionDisabled,
    #[error("This link has expired or was revoked. Ask whoever shared it for a new one.")]
    ShareLinkGone,
    #[error("Pick how long the link works: from 1 hour to the longest this deployment allows (SHARE_MAX_DAYS), or no deadline where an administrator allows that.")]
    ShareLifetime,
    #[error("A link's password has 8 to 200 characters.")]
    SharePasswordInvalid,
    #[error("That password is not right. Ask whoever shared the link for it.")]
    SharePasswordWrong,
    #[error("A download limit is a whole number from 1 to 100,000.")]
    ShareDownloadsInvalid,
    #[error("List networks as addresses or CIDR blocks, one per line, such as 203.0.113.0/24 or 2001:db8::/32 (at most 20).")]
    ShareNetworksInvalid,
    #[error("This link has handed out all its downloads. Ask whoever shared it for a new one.")]
    ShareDownloadsSpent,
    #[error("This link does not open from your network. Ask whoever shared it.")]
    ShareNetworkRefused,
    #[error("List the people as email addresses, one per line (at most 20).")]
    SharePeopleInvalid,
    #[error("This link is for named people: sign in to Crossview with your address to open it.")]
    ShareSignIn,
    #[error("This link is for other people than the account you are signed in with. Ask whoever shared it, or sign in with the address it was shared with.")]
    ShareNotForYou,
    #[error("This reset link does not work: it was used already, has expired (a link lives an hour, or 30 minutes when it was emailed) or was replaced by a newer one. Ask for a new one.")]
    ResetLinkInvalid,
    #[error("This deployment asks administrators for a second factor: set up two-step sign-in on your account page first.")]
    SecondFactorRequired,
    #[error("That code is not right, or was used already. Enter the 6 digits your authenticator app shows now, or one of your recovery codes.")]
    CodeInvalid,
    #[error("That took too long: sign in with your email and password again.")]
    SecondStepExpired,
    #[error("Two-step sign-in is already on. Turn it off first to move it to another authenticator app.")]
    TwoStepAlreadyOn,
    #[error("No authenticator app is being set up: start again.")]
    TwoStepNotStarted,
    #[error(
        "This deployment does not send email. Ask an administrator for a password reset link."
    )]
    MailOff,
    #[error("This deployment does not sign people in that way: use one of the ways the sign-in page offers.")]
    SignInMethodOff,
    #[error("That sign-in took too long, or was started in another browser or tab. Start it again from the sign-in page.")]
    SsoExpired,
    #[error("Your identity provider's answer could not be trusted (it was for another application, from another issuer, for another sign-in, or not signed by the provider's keys), so nobody was signed in. Try again; if it keeps happening, tell an administrator.")]
    SsoRejected,
    #[error("Your identity provider's answer had already expired, so nobody was signed in. Try again; if it keeps happening, this server's or the provider's clock is wrong: tell an administrator.")]
    SsoTokenExpired,
    #[error("Your identity provider could not be reached or did not answer as expected. Try again in a minute, or sign in another way.")]
    SsoUnavailable,
    #[error("Your identity provider did not sign you in (you may have cancelled). Start again from the sign-in page.")]
    SsoCancelled,
    #[error("Your identity provider did not say that your email address is verified, so Crossview cannot tell which account is yours. Ask your administrator.")]
    SsoEmailUnverified,
    #[error("No account has this email address, and this deployment does not create accounts for its domain through single sign-on. Ask an administrator to add your domain, or to create your account.")]
    SsoDomainRefused,
    #[error("The passkey was not accepted: it may belong to another site or account, or the browser cancelled. Try again, or sign in another way.")]
    PasskeyRefused,
    #[error("Name the passkey with 1 to 64 characters, such as \"Work laptop\" or \"Phone\".")]
    PasskeyNameInvalid,
    #[error("Confirm it is you first: this needs your password or second factor from the last 10 minutes.")]
    StepUpRequired,
    #[error("That is outside the locations you may use on this connection. Open one of them from the connection's page.")]
    OutsideLocation,
    #[error("This location is read-only for you: you may browse and download here, but not change anything.")]
    ReadOnlyLocation,
    #[error("This connection is read-only: you may browse and download, but not change anything. Its owner can make it read-write on the connection's page.")]
    ReadOnlyConnection,
    #[error("A location is a bucket and, if you like, a folder in it ending in / (at most 256 characters, without * ? $ or an empty, . or .. folder), like reports/2026/ or uploads/users/{{user}}/.")]
    LocationInvalid,
    #[error("You own this connection already: grant its locations to someone else.")]
    GranteeIsOwner,
    #[error("Only the connection's owner can add locations or grant access to it. Administrators may disable, re-check or delete a connection, not take its data.")]
    NotYourConnection,
    #[error("A grant ends in the future: pick a later date, or none.")]
    GrantExpiryInvalid,
    #[error("The role does not allow {action} on {resource}.")]
    Denied { action: Action, resource: String },
    #[error("{0}")]
    Aws(AwsProblem),
    #[error("Crossview cannot reach its database right now. Try again in a moment.")]
    Unavailable,
    #[error("Something went wrong on our side (reference {0}).")]
    Internal(String),
    #[error("The request could not be completed: {0}")]
    Request(String),
}

/// Why AWS refused or failed, in the classes a user can act on. Never raw SDK text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AwsProblem {
    #[error("AWS refused to let Crossview assume the role: the role does not exist, its trust policy does not name Crossview's principal, or the ExternalId does not match.")]
    TrustDenied,
    #[error("The role's credentials belong to a different AWS account than the one in the ARN.")]
    AccountMismatch,
    #[error("The role lets Crossview in with a wrong ExternalId, or with none: its trust policy does not pin this connection's ExternalId, so anyone who learns the role's ARN could make Crossview act on it (the confused deputy). Crossview refuses such a role.")]
    TrustTooOpen,
    #[error("Crossview could not complete the check that the role refuses a wrong or missing ExternalId (AWS was throttling or did not answer), so the connection is not verified.")]
    CheckIncomplete,
    #[error("AWS could not be reached. Try again in a moment.")]
    Unreachable,
    #[error("AWS is throttling requests. Wait a few seconds and try again.")]
    Throttled,
    #[error("AWS did not answer in time. Try again in a moment.")]
    TimedOut,
    #[error("STS is not enabled in this region of the account.")]
    RegionDisabled,
    #[error("The role may read this object, but not decrypt it: its KMS key does not allow the role to use it.")]
    KmsDenied,
    #[error("That bucket does not exist (check the spelling: bucket names are lowercase).")]
    BucketNotFound,
    #[error("That object does not exist (any more). It may have been deleted or renamed.")]
    ObjectNotFound,
    #[error("AWS rejected Crossview's own credentials. An administrator must fix the deployment's AWS settings.")]
    OwnIdentity,
    #[error("The role's maximum session is shorter than a download link's life, so AWS would not issue credentials that last as long as the link.")]
    SessionTooShort,
    #[error(
        "AWS answered in an unexpected way. Try again; if it persists, tell an administrator."
    )]
    Unexpected,
}

impl AwsProblem {
    /// A stable name, stored as a connection's `last_error`.
    pub fn code(self) -> &'static str {
        match self {
            AwsProblem::TrustDenied => "TrustDenied",
            AwsProblem::AccountMismatch => "AccountMismatch",
            AwsProblem::TrustTooOpen => "TrustTooOpen",
            AwsProblem::CheckIncomplete => "CheckIncomplete",
            AwsProblem::Unreachable => "Unreachable",
            AwsProblem::Throttled => "Throttled",
            AwsProblem::TimedOut => "TimedOut",
            AwsProblem::RegionDisabled => "RegionDisabled",
            AwsProblem::KmsDenied => "KmsDenied",
            AwsProblem::BucketNotFound => "BucketNotFound",
            AwsProblem::ObjectNotFound => "ObjectNotFound",
            AwsProblem::OwnIdentity => "OwnIdentity",
            AwsProblem::SessionTooShort => "SessionTooShort",
            AwsProblem::Unexpected => "Unexpected",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
    }

    /// What the user can do about it.
    pub fn fix(self) -> &'static str {
        match self {
            AwsProblem::TrustDenied => "Open the role in the IAM console and compare its trust policy with the one shown here, character for character. A role created seconds ago may still be propagating: verify again in a minute.",
            AwsProblem::AccountMismatch => "Check that you pasted the ARN of the role in the account you meant to connect.",
            AwsProblem::TrustTooOpen => "Replace the role's trust policy with the one shown here: its condition must be exactly \"StringEquals\": {\"sts:ExternalId\": \"<this connection's ExternalId>\"}, with no StringLike, wildcard, Null or IfExists form of it and no other statement that lets Crossview's principal in. Then verify again.",
            AwsProblem::CheckIncomplete => "Verify again in a moment.",
            AwsProblem::Unreachable | AwsProblem::Throttled | AwsProblem::Unexpected => "Try again shortly.",
            AwsProblem::TimedOut => "Try again shortly. If it keeps happening, the endpoint is too slow or unreachable from Crossview: an administrator can check the network path (and AWS_TIMEOUT_SECS).",
            AwsProblem::RegionDisabled => "Enable STS for the region in the account's IAM settings (Account settings → Security Token Service).",
            AwsProblem::OwnIdentity => "Nothing on your side: Crossview's deployment needs valid AWS credentials.",
            AwsProblem::KmsDenied => "In the KMS key's policy, allow the role kms:Decrypt (and kms:GenerateDataKey for uploads).",
            AwsProblem::BucketNotFound | AwsProblem::ObjectNotFound => "Go up a level and pick it from the listing.",
            AwsProblem::SessionTooShort => "Raise the role's Maximum session duration in IAM (up to 12 hours), or ask an administrator to lower PRESIGN_SECONDS. When Crossview's own identity is itself a role, AWS caps chained sessions at one hour whatever the role allows.",
        }
    }
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

    /// On the server this is a request whose body did not decode into the function's
    /// arguments (wrong encoding, wrong types, garbage): the client's mistake, answered 400.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        #[cfg(feature = "ssr")]
        if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(http::StatusCode::BAD_REQUEST);
        }
        AppError::Request(value.to_string())
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use http::StatusCode;
    use rand::Rng;

    use super::{AppError, AwsProblem};

    impl AppError {
        /// The HTTP status a server function answers with when it fails this way.
        pub fn status(&self) -> StatusCode {
            use AppError::*;
            match self {
                Unauthorized | BadCredentials | CodeInvalid | SecondStepExpired | SsoExpired
                | SsoRejected | SsoTokenExpired | SsoCancelled | PasskeyRefused
                | SharePasswordWrong | ShareSignIn => StatusCode::UNAUTHORIZED,
                SecondFactorRequired | Forbidden | NotYourConnection | AccountDisabled
                | ConnectionDisabled | SignupClosed | BootstrapRefused | EndpointNotAllowed
                | OutsideLocation | ReadOnlyLocation | ReadOnlyConnection | SignInMethodOff
                | SsoEmailUnverified | SsoDomainRefused | StepUpRequired | ShareNetworkRefused
                | ShareNotForYou => StatusCode::FORBIDDEN,
                NotFound | Aws(AwsProblem::BucketNotFound) | Aws(AwsProblem::ObjectNotFound) => {
                    StatusCode::NOT_FOUND
                }
                Denied { .. } | Aws(AwsProblem::KmsDenied) => StatusCode::FORBIDDEN,
                EmailTaken
                | ExternalIdTaken
                | ConnectionNotVerified
                | NextExternalIdNotAdmitted
                | NoRotation
                | LastAdmin
                | TwoStepAlreadyOn
                | TwoStepNotStarted
                | MailOff
                | ObjectExists => StatusCode::CONFLICT,
                RateLimited | TooFast | Aws(AwsProblem::Throttled) => StatusCode::TOO_MANY_REQUESTS,
                Unavailable | Busy | SsoUnavailable | Aws(AwsProblem::Unreachable) => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                Aws(AwsProblem::TimedOut) => StatusCode::GATEWAY_TIMEOUT,
                Aws(_) => StatusCode::BAD_GATEWAY,
                Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                UploadTooLarge { .. } | UploadSizeMismatch { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                ShareLinkGone | ShareDownloadsSpent | ResetLinkInvalid => StatusCode::GONE,
                UploadTypeRefused { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                EmailInvalid
                | PasswordTooShort
                | PasswordTooLong
                | PasswordCommon
                | PasswordMismatch
                | WrongCurrentPassword
                | ConnectionNameInvalid
                | ExternalIdInvalid
                | ArnFormat
                | ArnPartition
                | ArnService
                | ArnRegion
                | ArnAccount
                | ArnNotRole
                | ArnRoleName
                | ArnRolePath
                | RoleArnMissing
                | BucketNameInvalid
                | EndpointInvalid
                | EndpointUnresolvable
                | KeyInvalid
                | FolderNameInvalid
                | ConfirmationMismatch
                | SearchInvalid
                | LocationInvalid
                | GranteeIsOwner
                | GrantExpiryInvalid
                | PasskeyNameInvalid
                | ShareLifetime
                | SharePasswordInvalid
                | ShareDownloadsInvalid
                | ShareNetworksInvalid
                | SharePeopleInvalid
                | Request(_) => StatusCode::BAD_REQUEST,
            }
        }
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
