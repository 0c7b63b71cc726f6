use std::collections::HashMap;

use super::*;

const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn parse(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn missing_secret_is_a_clear_error() {
    let err = parse(&[("DATABASE_URL", "postgres://x")]).unwrap_err();
    assert_eq!(
        err,
        ConfigError::Missing(
            "SESSION_SECRET",
            "set it to 64 or more random characters (e.g. `openssl rand -hex 64`)"
        )
    );
    assert!(err.to_string().starts_with("SESSION_SECRET is not set"));
}

#[test]
fn missing_database_url_is_a_clear_error() {
    let err = parse(&[("SESSION_SECRET", SECRET)]).unwrap_err();
    assert!(
        err.to_string().starts_with("DATABASE_URL is not set"),
        "{err}"
    );
}

#[test]
fn short_secret_is_refused() {
    let err = parse(&[
        ("DATABASE_URL", "postgres://x"),
        ("SESSION_SECRET", "short"),
    ])
    .unwrap_err();
    assert!(matches!(err, ConfigError::Invalid("SESSION_SECRET", _)));
}

#[test]
fn production_refuses_insecure_cookies_but_development_allows_them() {
    let base = [
        ("DATABASE_URL", "postgres://x"),
        ("SESSION_SECRET", SECRET),
        ("COOKIE_SECURE", "false"),
    ];
    assert_eq!(parse(&base).unwrap_err(), ConfigError::InsecureCookies);
    let mut dev = base.to_vec();
    dev.push(("CROSSVIEW_ENV", "development"));
    assert!(!parse(&dev).unwrap().cookie_secure);
}

#[test]
fn defaults_are_safe() {
    let cfg = parse(&[("DATABASE_URL", "postgres://x"), ("SESSION_SECRET", SECRET)]).unwrap();
    assert!(cfg.cookie_secure && cfg.allow_signup && !cfg.development && !cfg.trust_proxy);
    assert!(!format!("{cfg:?}").contains(SECRET));
    assert_eq!(cfg.presign_seconds, 600);
    assert_eq!(cfg.session_max, Duration::from_secs(12 * 3600));
    assert_eq!(
        (cfg.aws_connect_timeout, cfg.aws_timeout),
        (Duration::from_secs(3), Duration::from_secs(30))
    );
    assert!(cfg.custom_endpoint_hosts.is_empty() && !cfg.allow_custom_endpoints);
    assert_eq!(cfg.require_mfa, RequireMfa::Admins);
    let secs = Duration::from_secs;
    assert_eq!(
        cfg.timeouts,
        Timeouts {
            header_read: secs(10),
            body_read: secs(15),
            request: secs(60)
        }
    );
}

#[test]
fn require_mfa_takes_three_answers_and_names_itself_otherwise() {
    let base = [("DATABASE_URL", "postgres://x"), ("SESSION_SECRET", SECRET)];
    for (value, expected) in [
        ("admins", RequireMfa::Admins),
        ("all", RequireMfa::All),
        ("off", RequireMfa::Off),
    ] {
        let cfg = parse(&[base[0], base[1], ("REQUIRE_MFA", value)]).unwrap();
        assert_eq!(cfg.require_mfa, expected);
    }
    let err = parse(&[base[0], base[1], ("REQUIRE_MFA", "sometimes")]).unwrap_err();
    assert!(
        err.to_string().starts_with("REQUIRE_MFA is invalid"),
        "{err}"
    );
    assert!(RequireMfa::All.refuses(false) && RequireMfa::Admins.refuses(true));
    assert!(!RequireMfa::Admins.refuses(false) && !RequireMfa::Off.refuses(true));
}

#[test]
fn mail_needs_a_sender_and_the_public_address() {
    let base = [("DATABASE_URL", "postgres://x"), ("SESSION_SECRET", SECRET)];
    let smtp = ("SMTP_URL", "smtp://127.0.0.1:2525");
    let err = parse(&[base[0], base[1], smtp]).unwrap_err();
    assert!(err.to_string().starts_with("MAIL_FROM is not set"), "{err}");
    let from = ("MAIL_FROM", "Crossview <cv@example.com>");
    let err = parse(&[base[0], base[1], smtp, from]).unwrap_err();
    assert!(
        err.to_string().starts_with("PUBLIC_URL is not set"),
        "{err}"
    );
    let public = ("PUBLIC_URL", "https://cv.example.com/");
    let cfg = parse(&[base[0], base[1], smtp, from, public]).unwrap();
    assert_eq!(cfg.public_url.as_deref(), Some("https://cv.example.com"));
    assert_eq!(cfg.mail.unwrap().from, "Crossview <cv@example.com>");
    let err = parse(&[base[0], base[1], ("PUBLIC_URL", "cv.example.com")]).unwrap_err();
    assert!(
        err.to_string().starts_with("PUBLIC_URL is invalid"),
        "{err}"
    );
}

#[test]
fn session_lifetime_and_aws_timeouts_are_bounded() {
    let with = |key: &'static str, value: &'static str| {
        parse(&[
            ("DATABASE_URL", "postgres://x"),
            ("SESSION_SECRET", SECRET),
            (key, value),
        ])
    };
    assert_eq!(
        with("SESSION_MAX_HOURS", "2").unwrap().session_max,
        Duration::from_secs(7200)
    );
    for (key, bad) in [
        ("SESSION_MAX_HOURS", "0"),
        ("SESSION_MAX_HOURS", "721"),
        ("AWS_TIMEOUT_SECS", "0"),
        ("AWS_CONNECT_TIMEOUT_SECS", "soon"),
        ("BODY_READ_TIMEOUT_SECS", "0"),
        ("REQUEST_TIMEOUT_SECS", "a minute"),
    ] {
        let err = with(key, bad).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{key} is invalid")), "{err}");
    }
}

#[test]
fn presigned_links_cannot_outlive_an_aws_session() {
    let with = |seconds: &str| {
        parse(&[
            ("DATABASE_URL", "postgres://x"),
            ("SESSION_SECRET", SECRET),
            ("PRESIGN_SECONDS", seconds),
        ])
    };
    assert_eq!(with("3600").unwrap().presign_seconds, 3600);
    for bad in ["43201", "10", "soon"] {
        let err = with(bad).unwrap_err().to_string();
        assert!(err.starts_with("PRESIGN_SECONDS is invalid"), "{err}");
    }
}

#[test]
fn upload_rules_come_from_the_environment() {
    let base = [("DATABASE_URL", "postgres://x"), ("SESSION_SECRET", SECRET)];
    let defaults = parse(&base).unwrap().uploads;
    assert_eq!(defaults.multipart_threshold, 16 << 20);
    assert_eq!((defaults.parallel_parts, defaults.max_bytes), (4, None));
    assert!(defaults.allowed.is_empty());
    let mut set = base.to_vec();
    set.extend([
        ("UPLOAD_MULTIPART_THRESHOLD_MIB", "1"),
        ("UPLOAD_PARALLEL_PARTS", "99"),
        ("UPLOAD_MAX_MIB", "100"),
        ("UPLOAD_ALLOWED_TYPES", " Image/*, .CSV ,"),
    ]);
    let rules = parse(&set).unwrap().uploads;
    assert_eq!(rules.multipart_threshold, 5 << 20, "S3's smallest part");
    assert_eq!(rules.parallel_parts, 16);
    assert_eq!(rules.max_bytes, Some(100 << 20));
    assert_eq!(rules.allowed, ["image/*", ".csv"]);
}

#[test]
fn bad_flag_names_its_variable() {
    let err = parse(&[
        ("DATABASE_URL", "postgres://x"),
        ("SESSION_SECRET", SECRET),
        ("ALLOW_SIGNUP", "maybe"),
    ])
    .unwrap_err();
    assert!(
        err.to_string().starts_with("ALLOW_SIGNUP is invalid"),
        "{err}"
    );
}

#[test]
fn debug_output_shows_no_secret() {
    let config = parse(&[
        (
            "DATABASE_URL",
            "postgres://crossview:hunter2-db@db/crossview",
        ),
        ("SESSION_SECRET", SECRET),
    ])
    .unwrap();
    let printed = format!("{config:?}");
    assert!(printed.contains("presign_seconds: 600"), "{printed}");
    assert!(
        !printed.contains("hunter2-db") && !printed.contains(SECRET),
        "{printed}"
    );
    assert_eq!(config.session_secret.expose_secret(), SECRET);
}

#[test]
fn each_purpose_gets_its_own_key_none_of_them_the_secret() {
    let config = parse(&[("DATABASE_URL", "postgres://x"), ("SESSION_SECRET", SECRET)]).unwrap();
    let ticket = config.subkey("crossview.upload-ticket.v1");
    let device = config.subkey("crossview.device-cookie.v1");
    assert_ne!(ticket, device);
    assert_ne!(&ticket[..], &SECRET.as_bytes()[..32]);
    assert_eq!(
        ticket,
        config.subkey("crossview.upload-ticket.v1"),
        "stable"
    );
}

#[test]
fn admin_emails_is_refused_with_what_to_do_instead() {
    let err = parse(&[
        ("DATABASE_URL", "postgres://x"),
        ("SESSION_SECRET", SECRET),
        ("ADMIN_EMAILS", "boss@example.com"),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("server admin grant"), "{err}");
}
