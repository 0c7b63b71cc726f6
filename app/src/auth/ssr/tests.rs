use std::sync::Arc;

use sqlx::PgPool;

use super::*;
use crate::config::Config;

fn config(allow_signup: bool) -> Arc<Config> {
    let secret = "s".repeat(64);
    let signup = allow_signup.to_string();
    Arc::new(
        Config::from_lookup(|k| match k {
            "DATABASE_URL" => Some("postgres://unused".into()),
            "SESSION_SECRET" => Some(secret.clone()),
            "ALLOW_SIGNUP" => Some(signup.clone()),
            "BOOTSTRAP_TOKEN" => Some(TOKEN.into()),
            _ => None,
        })
        .unwrap(),
    )
}

/// `super::create_user`, tried again while Busy: the hashing queue refuses before any work when
/// other tests (the ten racers below above all) fill it, and a refusal creates nothing.
async fn create_user(
    pool: &PgPool,
    config: &Config,
    email: &str,
    password: &str,
    bootstrap: Option<&str>,
) -> Result<SessionUser, AppError> {
    loop {
        match super::create_user(pool, config, email, password, bootstrap).await {
            Err(AppError::Busy) => tokio::task::yield_now().await,
            done => return done,
        }
    }
}

/// `super::sign_in`, tried again while Busy (a Busy attempt gives its count back).
async fn sign_in(
    pool: &PgPool,
    email: &str,
    password: &str,
    address: Option<&str>,
    device: Option<&str>,
) -> Result<SessionUser, AppError> {
    loop {
        match super::sign_in(pool, email, password, address, device).await {
            Err(AppError::Busy) => tokio::task::yield_now().await,
            done => return done,
        }
    }
}

const GOOD: &str = "correct horse battery staple";
const TOKEN: &str = "the-operators-bootstrap-token";

#[test]
fn email_rules() {
    for ok in ["a@b.co", "first.last+tag@sub.example.org", "ünï@例え.jp"] {
        assert_eq!(validate_email(ok), Ok(()), "{ok}");
    }
    for bad in [
        "",
        "plain",
        "@example.com",
        "a@b",
        "a b@c.com",
        "a@@b.com",
        "a@.b.com",
        "a@b..com",
        "a@b.com.",
        "x@y\n.com",
    ] {
        assert_eq!(validate_email(bad), Err(AppError::EmailInvalid), "{bad:?}");
    }
}

#[test]
fn passwords_are_12_to_128_characters_and_not_easily_guessed() {
    let email = "dana.smith@example.com";
    assert_eq!(
        validate_password("short", email),
        Err(AppError::PasswordTooShort)
    );
    // Characters, not bytes: 11 two-byte characters are too short, 12 are long enough.
    assert_eq!(
        validate_password(&"ä".repeat(11), email),
        Err(AppError::PasswordTooShort)
    );
    assert_eq!(
        validate_password(&"x".repeat(129), email),
        Err(AppError::PasswordTooLong)
    );
    // Long enough, yet found at once in breach lists or as a pattern, or built from the email.
    for weak in [
        "password1234",
        "qwertyuiop123",
        "123456789012",
        "iloveyou2024!",
        "aaaaaaaaaaaaaaaa",
        "dana.smith1234",
        "Crossview2026!",
    ] {
        assert_eq!(
            validate_password(weak, email),
            Err(AppError::PasswordCommon),
            "{weak}"
        );
    }
    for strong in [
        GOOD,
        "a long enough passphrase",
        "a brand new passphrase",
        "another long passphrase",
        "äöü lantern harbour quietly",
        &"Zq7!vR2#".repeat(16),
    ] {
        assert_eq!(validate_password(strong, email), Ok(()), "{strong}");
    }
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn sign_up_validates_and_refuses_duplicates(pool: PgPool) {
    let cfg = config(true);
    assert_eq!(
        create_user(&pool, &cfg, "not-an-email", GOOD, None)
            .await
            .unwrap_err(),
        AppError::EmailInvalid
    );
    assert_eq!(
        create_user(&pool, &cfg, "a@example.com", "short", None)
            .await
            .unwrap_err(),
        AppError::PasswordTooShort
    );
    create_user(&pool, &cfg, "a@example.com", GOOD, None)
        .await
        .unwrap();
    // Case and surrounding spaces do not make a new account.
    assert_eq!(
        create_user(&pool, &cfg, " A@Example.COM ", GOOD, None)
            .await
            .unwrap_err(),
        AppError::EmailTaken
    );
    let stored: String = sqlx::query_scalar("select password_hash from users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$") && !stored.contains(GOOD));
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn only_the_bootstrap_token_makes_the_first_admin_and_only_once(pool: PgPool) {
    let closed = config(false);
    let open = config(true);
    // The first account of an empty deployment is an ordinary one, and while sign-up is closed
    // nobody signs up without the token.
    let first = create_user(&pool, &open, "first@example.com", GOOD, None)
        .await
        .unwrap();
    assert!(!first.is_admin, "being first proves nothing");
    for later in [
        "second@example.com",
        "Boss@example.com",
        "admin@example.com",
    ] {
        assert_eq!(
            create_user(&pool, &closed, later, GOOD, None)
                .await
                .unwrap_err(),
            AppError::SignupClosed,
            "{later}"
        );
    }
    // A wrong token is refused, and so is a token where the deployment has none.
    let untokened = Arc::new(Config {
        bootstrap_token: None,
        ..(*open).clone()
    });
    for (cfg, token) in [
        (&closed, "a-wrong-token-of-some-length"),
        (&untokened, TOKEN),
    ] {
        assert_eq!(
            create_user(&pool, cfg, "guess@example.com", GOOD, Some(token))
                .await
                .unwrap_err(),
            AppError::BootstrapRefused
        );
    }
    // The token: an administrator, even with sign-up closed; then never again.
    let admin = create_user(&pool, &closed, "owner@example.com", GOOD, Some(TOKEN))
        .await
        .unwrap();
    assert!(admin.is_admin);
    assert_eq!(
        create_user(&pool, &open, "late@example.com", GOOD, Some(TOKEN))
            .await
            .unwrap_err(),
        AppError::BootstrapRefused
    );
    let third = create_user(&pool, &open, "boss@example.com", GOOD, None)
        .await
        .unwrap();
    assert!(!third.is_admin, "no address is privileged");
}

/// Ten people signing up at once on a fresh deployment, all with the token: one of them, and
/// only one, is admin; the others are refused (the token is spent).
async fn simultaneous_first_sign_ups(pool: &PgPool, allow_signup: bool) -> Vec<SessionUser> {
    let cfg = config(allow_signup);
    let attempts = (0..10).map(|i| {
        let (pool, cfg) = (pool.clone(), cfg.clone());
        tokio::spawn(async move {
            let email = format!("racer{i}@example.com");
            create_user(&pool, &cfg, &email, GOOD, Some(TOKEN)).await
        })
    });
    let mut made = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        match attempt.await.unwrap() {
            Ok(user) => made.push(user),
            Err(err) => assert_eq!(err, AppError::BootstrapRefused),
        }
    }
    made
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn ten_simultaneous_first_sign_ups_make_exactly_one_admin(pool: PgPool) {
    let made = simultaneous_first_sign_ups(&pool, true).await;
    assert_eq!(made.len(), 1, "the token is spent by the first");
    assert!(made[0].is_admin);
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn closed_sign_up_lets_exactly_one_first_account_in(pool: PgPool) {
    let made = simultaneous_first_sign_ups(&pool, false).await;
    assert_eq!(made.len(), 1, "the others are refused: the token is spent");
    assert!(made[0].is_admin);
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn admins_are_granted_and_revoked_but_the_last_one_stays(pool: PgPool) {
    let open = config(true);
    let first = create_user(&pool, &open, "first@example.com", GOOD, Some(TOKEN))
        .await
        .unwrap();
    create_user(&pool, &open, "second@example.com", GOOD, None)
        .await
        .unwrap();
    assert_eq!(
        change_user(
            &pool,
            None,
            Account::Email("ghost@example.com"),
            Change::Admin(true)
        )
        .await
        .unwrap_err(),
        AppError::NotFound
    );
    change_user(
        &pool,
        None,
        Account::Email("Second@Example.com"),
        Change::Admin(true),
    )
    .await
    .unwrap();
    change_user(
        &pool,
        Some(first.id),
        Account::Email("second@example.com"),
        Change::Admin(false),
    )
    .await
    .unwrap();
    assert_eq!(
        change_user(
            &pool,
            Some(first.id),
            Account::Email("first@example.com"),
            Change::Admin(false)
        )
        .await
        .unwrap_err(),
        AppError::LastAdmin
    );
    // A disabled admin does not count: the last *active* one can be neither disabled nor demoted.
    let second = change_user(
        &pool,
        None,
        Account::Email("second@example.com"),
        Change::Admin(true),
    )
    .await
    .unwrap();
    change_user(
        &pool,
        Some(first.id),
        Account::Id(second),
        Change::Disabled(true),
    )
    .await
    .unwrap();
    for change in [Change::Disabled(true), Change::Admin(false)] {
        assert_eq!(
            change_user(&pool, Some(first.id), Account::Id(first.id), change)
                .await
                .unwrap_err(),
            AppError::LastAdmin
        );
    }
    change_user(
        &pool,
        Some(first.id),
        Account::Id(second),
        Change::Disabled(false),
    )
    .await
    .unwrap();
    change_user(
        &pool,
        Some(first.id),
        Account::Id(second),
        Change::Admin(false),
    )
    .await
    .unwrap();
    let admins: Vec<String> = sqlx::query_scalar("select email from users where is_admin")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(admins, ["first@example.com"]);
    let audited: Vec<(String, Option<i64>, String)> = sqlx::query_as(
        "select action, actor_id, detail->>'by' from audit_events
         where action like 'admin.%' or action like 'user.%' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        audited,
        [
            ("admin.grant".into(), None, "operator".into()),
            ("admin.revoke".into(), Some(first.id), "admin".into()),
            ("admin.grant".into(), None, "operator".into()),
            ("user.disable".into(), Some(first.id), "admin".into()),
            ("user.enable".into(), Some(first.id), "admin".into()),
            ("admin.revoke".into(), Some(first.id), "admin".into()),
        ]
    );
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn sign_in_checks_the_password(pool: PgPool) {
    create_user(&pool, &config(true), "a@example.com", GOOD, None)
        .await
        .unwrap();
    let user = sign_in(&pool, "A@example.com", GOOD, Some("10.0.0.1"), None)
        .await
        .unwrap();
    assert_eq!(user.email, "a@example.com");
    assert_eq!(
        sign_in(&pool, "a@example.com", "wrong password", None, None)
            .await
            .unwrap_err(),
        AppError::BadCredentials
    );
    // An unknown email gets the very same answer.
    assert_eq!(
        sign_in(&pool, "nobody@example.com", GOOD, None, None)
            .await
            .unwrap_err(),
        AppError::BadCredentials
    );
    sqlx::query("update users set disabled = true")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        sign_in(&pool, "a@example.com", GOOD, None, None)
            .await
            .unwrap_err(),
        AppError::AccountDisabled
    );
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn sign_in_is_limited_per_email_without_revealing_accounts(pool: PgPool) {
    create_user(&pool, &config(true), "a@example.com", GOOD, None)
        .await
        .unwrap();
    for email in ["a@example.com", "ghost@example.com"] {
        for i in 0..limits::SIGN_IN_EMAIL.max {
            let addr = format!("10.1.0.{i}");
            let answer = sign_in(&pool, email, "wrong", Some(&addr), None).await;
            assert_eq!(answer.unwrap_err(), AppError::BadCredentials);
        }
        // Even the right password is refused now from any untrusted client, for both emails
        // alike; a browser trusted for the account is not held back at all.
        assert_eq!(
            sign_in(&pool, email, GOOD, Some("10.9.9.9"), None)
                .await
                .unwrap_err(),
            AppError::RateLimited
        );
    }
    let trusted = sign_in(&pool, "a@example.com", GOOD, Some("10.9.9.9"), Some("d1")).await;
    assert_eq!(trusted.unwrap().email, "a@example.com");
    // Another account is unaffected.
    create_user(&pool, &config(true), "b@example.com", GOOD, None)
        .await
        .unwrap();
    sign_in(&pool, "b@example.com", GOOD, Some("10.9.9.9"), None)
        .await
        .unwrap();
    // The window passes.
    sqlx::query("update attempts set window_start = window_start - interval '31 minutes'")
        .execute(&pool)
        .await
        .unwrap();
    sign_in(&pool, "a@example.com", GOOD, None, None)
        .await
        .unwrap();
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn sign_in_is_limited_per_address(pool: PgPool) {
    create_user(&pool, &config(true), "a@example.com", GOOD, None)
        .await
        .unwrap();
    for i in 0..limits::SIGN_IN_ADDRESS.max {
        let email = format!("guess{i}@example.com");
        assert_eq!(
            sign_in(&pool, &email, "wrong", Some("192.0.2.7"), None)
                .await
                .unwrap_err(),
            AppError::BadCredentials
        );
    }
    assert_eq!(
        sign_in(&pool, "a@example.com", GOOD, Some("192.0.2.7"), None)
            .await
            .unwrap_err(),
        AppError::RateLimited
    );
    sign_in(&pool, "a@example.com", GOOD, Some("192.0.2.8"), None)
        .await
        .unwrap();
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn changing_the_password_rotates_the_session_epoch(pool: PgPool) {
    let user = create_user(&pool, &config(true), "a@example.com", GOOD, None)
        .await
        .unwrap();
    let new = "a brand new passphrase";
    assert_eq!(
        change_password(&pool, user.id, "wrong", new, new)
            .await
            .unwrap_err(),
        AppError::WrongCurrentPassword
    );
    assert_eq!(
        change_password(&pool, user.id, GOOD, new, "typo")
            .await
            .unwrap_err(),
        AppError::PasswordMismatch
    );
    let changed = change_password(&pool, user.id, GOOD, new, new)
        .await
        .unwrap();
    assert_ne!(
        changed.session_auth_hash(),
        user.session_auth_hash(),
        "old sessions must no longer match"
    );
    assert_eq!(
        sign_in(&pool, "a@example.com", GOOD, None, None)
            .await
            .unwrap_err(),
        AppError::BadCredentials
    );
    sign_in(&pool, "a@example.com", new, None, None)
        .await
        .unwrap();
}
