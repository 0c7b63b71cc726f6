//! The server's typed configuration, read once from the environment at start. A leaf: it
//! depends on nothing else in the app; each capability reads its own part.

mod sso;

use std::{path::PathBuf, time::Duration};

pub use secrecy::{ExposeSecret, SecretString};
pub use sso::{SignInMethods, SsoProvider};

/// Everything the server reads from its environment. Secrets have no defaults, and are
/// [`SecretString`]s: their `Debug` prints nothing of them.
#[derive(Clone, Debug)]
pub struct Config {
    pub database: Database,
    /// At least 64 bytes; signs the session cookie.
    pub session_secret: SecretString,
    pub development: bool,
    pub cookie_secure: bool,
    pub allow_signup: bool,
    /// Take the client address from the last `X-Forwarded-For` hop (behind a trusted proxy).
    pub trust_proxy: bool,
    /// How many trusted proxies append to `X-Forwarded-For` in front of Crossview (default 1).
    pub trusted_proxy_hops: usize,
    /// Path-style S3 addressing, for the local AWS stand-in and S3-compatible stores.
    pub s3_force_path_style: bool,
    /// Let users type their own ExternalId (off: Crossview generates every one).
    pub allow_custom_external_id: bool,
    /// Whether connections may name their own S3/STS endpoints (S3-compatible stores). Off by
    /// default: Crossview would send requests, signed with its own identity, to any URL typed in.
    pub allow_custom_endpoints: bool,
    /// How long verification keeps retrying a denied AssumeRole while a new role propagates.
    pub verify_propagation: Duration,
    /// Public S3 URL where the CloudFormation template is published (enables quick-create links).
    pub cloudformation_template_url: Option<String>,
    /// Life of presigned links, in seconds. The assumed session lasts at least as long.
    pub presign_seconds: u32,
    /// The longest a share link may live, in days (`SHARE_MAX_DAYS`); its URLs live minutes.
    pub share_max_days: u32,
    /// Whether a share link may have no deadline at all (`SHARE_ALLOW_NO_EXPIRY`).
    pub share_no_expiry: bool,
    /// Keys one search request scans at most before it stops and offers to continue.
    pub search_max_keys: u64,
    /// What uploads may be, and how large ones travel.
    pub uploads: Uploads,
    /// Accounts one client address may create per hour.
    pub signups_per_address_per_hour: i32,
    /// `BOOTSTRAP_TOKEN`: a sign-up that gives it becomes the first administrator (only while
    /// there is none; also the one sign-up allowed while public sign-up is off).
    pub bootstrap_token: Option<SecretString>,
    /// Signed digests of the audit chain's head, if the operator keeps them.
    pub audit_digest: Option<AuditDigest>,
    /// Role assumptions one user may cause per minute (Crossview's STS quota is shared by all).
    pub assumptions_per_user_per_minute: i32,
    /// A session ends this long after sign-in, however active (the idle limit is separate).
    pub session_max: Duration,
    /// Limits on every AWS call: establishing the connection, and the whole operation (retries
    /// included), so a slow or silent endpoint frees the request instead of holding it.
    pub aws_connect_timeout: Duration,
    pub aws_timeout: Duration,
    /// Where custom endpoints may point (`CUSTOM_ENDPOINT_HOSTS`): host patterns such as
    /// `minio.internal:9000` or `*.example.com`, lower-cased.
    pub custom_endpoint_hosts: Vec<String>,
    /// Bearer token for `/metrics`; unset, the endpoint does not exist (metrics are not public).
    pub metrics_token: Option<SecretString>,
    /// How long a client may take to send a request, and a request to be answered.
    pub timeouts: Timeouts,
    /// Who must sign in with a second factor (`REQUIRE_MFA`).
    pub require_mfa: RequireMfa,
    /// The mail server and sender, if the deployment sends email (`SMTP_URL`, `MAIL_FROM`).
    pub mail: Option<Mail>,
    /// `PUBLIC_URL`: where people open Crossview (`https://crossview.example.com`), for links in
    /// messages and printed by the operator's commands.
    pub public_url: Option<String>,
    /// OpenID Connect providers people may sign in through (`OIDC_*`).
    pub sso: Vec<SsoProvider>,
    /// What the sign-in page offers (`SIGN_IN_METHODS`).
    pub sign_in: SignInMethods,
}

/// How Crossview sends email.
#[derive(Clone, Debug)]
pub struct Mail {
    /// `SMTP_URL`: `smtps://user:password@smtp.example.com` (TLS), `smtp://host:587?tls=required`
    /// (STARTTLS), or `smtp://127.0.0.1:2525` (a local relay, unencrypted). It may hold a
    /// password: kept secret.
    pub url: SecretString,
    /// `MAIL_FROM`: the sender, `Crossview <crossview@example.com>`.
    pub from: String,
}

/// `REQUIRE_MFA`: whose sessions need a second factor before their pages work. `admins` (the
/// default): the admin console; `all`: every page but the one that sets a factor up; `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequireMfa {
    Admins,
    All,
    Off,
}

impl RequireMfa {
    /// Whether a session without a second factor is refused `admin` work (the admin console's)
    /// or, when `admin` is false, a signed-in user's ordinary work.
    pub fn refuses(self, admin: bool) -> bool {
        match self {
            RequireMfa::Admins => admin,
            RequireMfa::All => true,
            RequireMfa::Off => false,
        }
    }
}

/// A client that sends slowly, or a request that never ends, holds a connection but never a
/// share of the server beyond these bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// From a connection's first byte (or its last request) to the end of the request's headers.
    pub header_read: Duration,
    /// From the headers to the end of the request's body.
    pub body_read: Duration,
    /// From admission to the end of a page's or server function's response (the audit export
    /// streams for as long as the client reads it).
    pub request: Duration,
}

/// How to reach Postgres: all an operator's command needs.
#[derive(Clone, Debug)]
pub struct Database {
    /// May hold a password. Behind a transaction-mode pooler (PgBouncer, Neon, Supabase) this
    /// is the pooled URL.
    pub url: SecretString,
    /// A session-mode (direct) URL for migrations, which hold an advisory lock for the whole
    /// session: a transaction-mode pooler cannot keep it. `None`: `url` is direct.
    pub direct_url: Option<SecretString>,
    /// The role that owns the schema (`MIGRATION_DATABASE_URL`, direct): migrations and the
    /// operator's commands run as it, and `url`'s role then only serves (see the README's
    /// "Two database roles"). `None`: `url`'s role owns the schema too.
    pub migration_url: Option<SecretString>,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Database {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| get(key).filter(|v| !v.trim().is_empty());
        let number = |key: &'static str, default: u64| number(key, get(key), default);
        let url = get("DATABASE_URL").ok_or(ConfigError::Missing(
            "DATABASE_URL",
            "set it to a Postgres URL such as postgres://user:password@host/crossview",
        ))?;
        Ok(Database {
            url: url.into(),
            direct_url: get("DATABASE_URL_DIRECT").map(SecretString::from),
            migration_url: get("MIGRATION_DATABASE_URL").map(SecretString::from),
            max_connections: number("DB_MAX_CONNECTIONS", 10)? as u32,
            acquire_timeout: Duration::from_secs(number("DB_ACQUIRE_TIMEOUT_SECS", 5)?),
        })
    }
}

/// Where the audit trail's signed digests go, and what signs them (see `audit::ssr::digest`).
#[derive(Clone, Debug)]
pub struct AuditDigest {
    /// `AUDIT_DIGEST_KEY`: 32 or more characters, not `SESSION_SECRET`.
    pub key: SecretString,
    /// `AUDIT_DIGEST_DIR`: a directory the database's roles cannot write (another disk, a
    /// mounted bucket with Object Lock, a path that is synced off the machine).
    pub dir: PathBuf,
    /// `AUDIT_DIGEST_EVERY_SECS` (3600): how often a serving instance writes one.
    pub every: Duration,
}

impl AuditDigest {
    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok(), None)
    }

    /// `None` when neither variable is set; both or neither.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
        session_secret: Option<&str>,
    ) -> Result<Option<Self>, ConfigError> {
        let get = |key: &str| get(key).filter(|v| !v.trim().is_empty());
        let (key, dir) = match (get("AUDIT_DIGEST_KEY"), get("AUDIT_DIGEST_DIR")) {
            (None, None) => return Ok(None),
            (Some(key), Some(dir)) => (key, dir),
            (None, Some(_)) => return Err(ConfigError::Missing(
                "AUDIT_DIGEST_KEY",
                "AUDIT_DIGEST_DIR needs a key to sign digests with (e.g. `openssl rand -hex 32`)",
            )),
            (Some(_), None) => {
                return Err(ConfigError::Missing(
                    "AUDIT_DIGEST_DIR",
                    "AUDIT_DIGEST_KEY needs a directory to write digests to",
                ))
            }
        };
        if key.len() < 32 || Some(key.as_str()) == session_secret {
            return Err(ConfigError::Invalid(
                "AUDIT_DIGEST_KEY",
                "use 32 or more random characters of its own, not SESSION_SECRET".into(),
            ));
        }
        let every = number(
            "AUDIT_DIGEST_EVERY_SECS",
            get("AUDIT_DIGEST_EVERY_SECS"),
            3600,
        )?;
        Ok(Some(AuditDigest {
            key: key.into(),
            dir: dir.into(),
            every: Duration::from_secs(every.max(60)),
        }))
    }
}

/// `value` of `key` as a whole number, `default` when unset.
fn number(key: &'static str, value: Option<String>, default: u64) -> Result<u64, ConfigError> {
    value.map_or(Ok(default), |v| {
        v.trim()
            .parse()
            .map_err(|_| ConfigError::Invalid(key, format!("expected a number, got {v:?}")))
    })
}

/// What uploads may be, and how large files travel (`transfers` turns this into its rules).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uploads {
    /// Files larger than this go as multipart uploads (default 16 MiB).
    pub multipart_threshold: u64,
    /// Parts the browser sends at once (default 4).
    pub parallel_parts: u32,
    /// Largest file accepted, if limited.
    pub max_bytes: Option<u64>,
    /// Accepted content types (`image/png`, `image/*`) and extensions (`.csv`); empty: any.
    pub allowed: Vec<String>,
}

/// STS issues sessions of at most 12 hours, so no presigned URL can outlive that.
pub const MAX_PRESIGN_SECONDS: u64 = 12 * 3600;

/// A configuration problem, worded for whoever deploys Crossview.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set; {1}")]
    Missing(&'static str, &'static str),
    #[error("{0} is invalid: {1}")]
    Invalid(&'static str, String),
    #[error("COOKIE_SECURE=false is refused in production: session cookies must be Secure (set CROSSVIEW_ENV=development for local use)")]
    InsecureCookies,
}

impl Config {
    /// A 32-byte key for one purpose (`label`), derived from `SESSION_SECRET` with HKDF-SHA256:
    /// what one purpose signs can never be passed off as another's, and none is the cookie key.
    pub fn subkey(&self, label: &str) -> [u8; 32] {
        let secret = self.session_secret.expose_secret().as_bytes();
        let mut key = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(None, secret)
            .expand(label.as_bytes(), &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        key
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Parses from any key lookup, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| get(key).filter(|v| !v.trim().is_empty());
        let flag = |key: &'static str, default: bool| -> Result<bool, ConfigError> {
            match get(key).as_deref().map(str::trim) {
                None => Ok(default),
                Some("1" | "true" | "yes" | "on") => Ok(true),
                Some("0" | "false" | "no" | "off") => Ok(false),
                Some(other) => Err(ConfigError::Invalid(
                    key,
                    format!("expected true or false, got {other:?}"),
                )),
            }
        };

        let database = Database::from_lookup(get)?;
        let session_secret = get("SESSION_SECRET").ok_or(ConfigError::Missing(
            "SESSION_SECRET",
            "set it to 64 or more random characters (e.g. `openssl rand -hex 64`)",
        ))?;
        if session_secret.len() < 64 {
            return Err(ConfigError::Invalid(
                "SESSION_SECRET",
                format!("needs at least 64 characters, has {}", session_secret.len()),
            ));
        }
        let development = match get("CROSSVIEW_ENV").as_deref() {
            None | Some("production") => false,
            Some("development") => true,
            Some(other) => {
                return Err(ConfigError::Invalid(
                    "CROSSVIEW_ENV",
                    format!("expected production or development, got {other:?}"),
                ))
            }
        };
        let cookie_secure = flag("COOKIE_SECURE", true)?;
        if !cookie_secure && !development {
            return Err(ConfigError::InsecureCookies);
        }
        let number = |key: &'static str, default: u64| number(key, get(key), default);
        // An address proves nothing: admins come from the first sign-up, an admin, or the
        // operator's `server admin grant`. A deployment still setting this must hear it.
        if get("ADMIN_EMAILS").is_some() {
            return Err(ConfigError::Invalid(
                "ADMIN_EMAILS",
                "is no longer read: make admins with `server admin grant EMAIL` or on the admin page".into(),
            ));
        }
        let presign_seconds = number("PRESIGN_SECONDS", 600)?;
        if !(60..=MAX_PRESIGN_SECONDS).contains(&presign_seconds) {
            return Err(ConfigError::Invalid(
                "PRESIGN_SECONDS",
                format!("must be between 60 and {MAX_PRESIGN_SECONDS} (12 hours, the longest AWS session), got {presign_seconds}"),
            ));
        }
        let mib = |key: &'static str, default: u64| number(key, default).map(|n| n << 20);
        let uploads = Uploads {
            multipart_threshold: mib("UPLOAD_MULTIPART_THRESHOLD_MIB", 16)?.max(5 << 20),
            parallel_parts: number("UPLOAD_PARALLEL_PARTS", 4)?.clamp(1, 16) as u32,
            max_bytes: match get("UPLOAD_MAX_MIB") {
                None => None,
                Some(_) => Some(mib("UPLOAD_MAX_MIB", 0)?),
            },
            allowed: list(get("UPLOAD_ALLOWED_TYPES")),
        };
        let custom_endpoint_hosts = list(get("CUSTOM_ENDPOINT_HOSTS"));
        let allow_custom_endpoints = flag("ALLOW_CUSTOM_ENDPOINTS", false)?;
        if allow_custom_endpoints && custom_endpoint_hosts.is_empty() {
            return Err(ConfigError::Invalid(
                "ALLOW_CUSTOM_ENDPOINTS",
                "needs CUSTOM_ENDPOINT_HOSTS, the hosts connections may point at (e.g. minio.internal:9000,*.example.com)".into(),
            ));
        }
        let session_max_hours = number("SESSION_MAX_HOURS", 12)?;
        if !(1..=24 * 30).contains(&session_max_hours) {
            return Err(ConfigError::Invalid(
                "SESSION_MAX_HOURS",
                format!("must be between 1 and 720 (30 days), got {session_max_hours}"),
            ));
        }
        let seconds = |key: &'static str, default: u64| -> Result<Duration, ConfigError> {
            match number(key, default)? {
                0 => Err(ConfigError::Invalid(
                    key,
                    "must be at least 1 second".into(),
                )),
                n => Ok(Duration::from_secs(n)),
            }
        };
        let timeouts = Timeouts {
            header_read: seconds("HEADER_READ_TIMEOUT_SECS", 10)?,
            body_read: seconds("BODY_READ_TIMEOUT_SECS", 15)?,
            request: seconds("REQUEST_TIMEOUT_SECS", 60)?,
        };
        let require_mfa = match get("REQUIRE_MFA").as_deref().map(str::trim) {
            None | Some("admins") => RequireMfa::Admins,
            Some("all") => RequireMfa::All,
            Some("off") => RequireMfa::Off,
            Some(other) => {
                return Err(ConfigError::Invalid(
                    "REQUIRE_MFA",
                    format!("expected admins, all or off, got {other:?}"),
                ))
            }
        };
        let public_url = get("PUBLIC_URL").map(|u| u.trim().trim_end_matches('/').to_owned());
        if let Some(url) = &public_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(ConfigError::Invalid(
                    "PUBLIC_URL",
                    format!("must start with https:// (or http:// in development), got {url:?}"),
                ));
            }
        }
        let mail = match (get("SMTP_URL"), get("MAIL_FROM")) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(ConfigError::Missing(
                    "MAIL_FROM",
                    "SMTP_URL needs a sender, such as Crossview <crossview@example.com>",
                ))
            }
            (Some(_), Some(_)) if public_url.is_none() => {
                return Err(ConfigError::Missing(
                    "PUBLIC_URL",
                    "SMTP_URL needs the address people open Crossview at, for the links in its messages",
                ))
            }
            (Some(url), Some(from)) => Some(Mail {
                url: url.trim().to_owned().into(),
                from: from.trim().to_owned(),
            }),
        };
        let (sso, mut sign_in) = sso::from_lookup(&get, development)?;
        if public_url.is_none() {
            if !sso.is_empty() {
                return Err(ConfigError::Missing(
                    "PUBLIC_URL",
                    "single sign-on needs the address people open Crossview at: providers send them back to PUBLIC_URL/sso/callback",
                ));
            }
            if get("SIGN_IN_METHODS").is_some() && sign_in.passkey {
                return Err(ConfigError::Missing(
                    "PUBLIC_URL",
                    "passkeys are bound to the site's address: set PUBLIC_URL",
                ));
            }
            // Passkeys belong to one site's name, which only PUBLIC_URL says for sure.
            sign_in.passkey = false;
        }
        Ok(Config {
            sso,
            sign_in,
            mail,
            public_url,
            require_mfa,
            audit_digest: AuditDigest::from_lookup(get, Some(&session_secret))?,
            bootstrap_token: match get("BOOTSTRAP_TOKEN") {
                Some(token) if token.trim().len() < 16 => {
                    return Err(ConfigError::Invalid(
                        "BOOTSTRAP_TOKEN",
                        "use 16 or more random characters (e.g. `openssl rand -hex 16`)".into(),
                    ))
                }
                token => token.map(|t| SecretString::from(t.trim().to_owned())),
            },
            timeouts,
            signups_per_address_per_hour: number("SIGNUP_PER_ADDRESS_PER_HOUR", 10)?
                .clamp(1, 100_000) as i32,
            assumptions_per_user_per_minute: number("ASSUMPTIONS_PER_USER_PER_MINUTE", 240)?
                .clamp(1, 100_000) as i32,
            session_max: Duration::from_secs(session_max_hours * 3600),
            aws_connect_timeout: seconds("AWS_CONNECT_TIMEOUT_SECS", 3)?,
            aws_timeout: seconds("AWS_TIMEOUT_SECS", 30)?,
            custom_endpoint_hosts,
            presign_seconds: presign_seconds as u32,
            share_max_days: number("SHARE_MAX_DAYS", 30)?.clamp(1, 3650) as u32,
            share_no_expiry: flag("SHARE_ALLOW_NO_EXPIRY", false)?,
            search_max_keys: number("SEARCH_MAX_KEYS", 100_000)?.clamp(1_000, 10_000_000),
            uploads,
            database,
            metrics_token: match get("METRICS_TOKEN") {
                Some(token) if token.len() < 32 => {
                    return Err(ConfigError::Invalid(
                        "METRICS_TOKEN",
                        "use 32 or more random characters (e.g. `openssl rand -hex 32`)".into(),
                    ))
                }
                token => token.map(SecretString::from),
            },
            session_secret: session_secret.into(),
            development,
            cookie_secure,
            allow_signup: flag("ALLOW_SIGNUP", true)?,
            trust_proxy: flag("TRUST_PROXY", false)?,
            trusted_proxy_hops: number("TRUSTED_PROXY_HOPS", 1)?.clamp(1, 10) as usize,
            s3_force_path_style: flag("AWS_S3_FORCE_PATH_STYLE", false)?,
            allow_custom_external_id: flag("ALLOW_CUSTOM_EXTERNAL_ID", false)?,
            allow_custom_endpoints,
            verify_propagation: Duration::from_secs(number("VERIFY_PROPAGATION_SECS", 20)?),
            cloudformation_template_url: match get("CLOUDFORMATION_TEMPLATE_URL") {
                None => None,
                // Quick-create links accept only templates published on S3 over https.
                Some(url) if url.starts_with("https://") => Some(url),
                Some(url) => {
                    return Err(ConfigError::Invalid(
                        "CLOUDFORMATION_TEMPLATE_URL",
                        format!("must be an https:// S3 URL, got {url:?}"),
                    ))
                }
            },
        })
    }
}

/// A comma-separated list, trimmed and lower-cased, without empty entries.
fn list(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

#[cfg(test)]
mod tests;
