use std::sync::Arc;

use sqlx::PgPool;

use super::*;

fn config(allow_signup: bool, admins: &[&str]) -> Arc<Config> {
    let secret = "s".repeat(64);
    let signup = allow_signup.to_string();
    let admins = admins.join(",");
    Arc::new(
        Config::from_lookup(|k| match k {
            "DATABASE_URL" => Some("postgres://unused".into()),
            "SESSION_SECRET" => Some(secret.clone()),
            "ALLOW_SIGNUP" => Some(signup.clone()),
            "ADMIN_EMAILS" => Some(admins.clone()),
            _ => None,
        })
        .unwrap(),
    )
}

const GOOD: &str = "correct horse battery";

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
fn password_rules_count_characters_not_bytes() {
    assert_eq!(validate_password("short"), Err(AppError::PasswordTooShort));
    assert_eq!(validate_password("ääääääääää"), Ok(()));
    assert_eq!(
        validate_password(&"x".repeat(1025)),
        Err(AppError::PasswordTooLong)
    );
}

#[test]
fn next_only_follows_local_paths() {
    assert_eq!(safe_next("/admin?x=1"), "/admin?x=1");
    for evil in [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "",
    ] {
        assert_eq!(safe_next(evil), "/");
    }
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn sign_up_validates_and_refuses_duplicates(pool: PgPool) {
    let cfg = config(true, &[]);
    assert_eq!(
        create_user(&pool, &cfg, "not-an-email", GOOD)
            .await
            .unwrap_err(),
        AppError::EmailInvalid
    );
    assert_eq!(
        create_user(&pool, &cfg, "a@example.com", "short")
            .await
            .unwrap_err(),
        AppError::PasswordTooShort
    );
    create_user(&pool, &cfg, "a@example.com", GOOD)
        .await
        .unwrap();
    // Case and surrounding spaces do not make a new account.
    assert_eq!(
        create_user(&pool, &cfg, " A@Example.COM ", GOOD)
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
async fn first_user_and_listed_emails_become_admins(pool: PgPool) {
    let cfg = config(false, &["boss@example.com"]);
    let first = create_user(&pool, &cfg, "first@example.com", GOOD)
        .await
        .unwrap();
    assert!(
        first.is_admin,
        "the first account of a deployment administers it"
    );
    assert_eq!(
        create_user(&pool, &cfg, "second@example.com", GOOD)
            .await
            .unwrap_err(),
        AppError::SignupClosed
    );
    let boss = create_user(&pool, &cfg, "Boss@example.com", GOOD)
        .await
        .unwrap();
    assert!(boss.is_admin);
    let open = config(true, &[]);
    assert!(
        !create_user(&pool, &open, "third@example.com", GOOD)
            .await
            .unwrap()
            .is_admin
    );
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn sign_in_checks_the_password(pool: PgPool) {
    create_user(&pool, &config(true, &[]), "a@example.com", GOOD)
        .await
        .unwrap();
    let user = sign_in(&pool, "A@example.com", GOOD, Some("10.0.0.1"))
        .await
        .unwrap();
    assert_eq!(user.email, "a@example.com");
    assert_eq!(
        sign_in(&pool, "a@example.com", "wrong password", None)
            .await
            .unwrap_err(),
        AppError::BadCredentials
    );
    // An unknown email gets the very same answer.
    assert_eq!(
        sign_in(&pool, "nobody@example.com", GOOD, None)
            .await
            .unwrap_err(),
        AppError::BadCredentials
    );
    sqlx::query("update users set disabled = true")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        sign_in(&pool, "a@example.com", GOOD, None)
            .await
            .unwrap_err(),
        AppError::AccountDisabled
    );
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn sign_in_is_limited_per_email_without_revealing_accounts(pool: PgPool) {
    create_user(&pool, &config(true, &[]), "a@example.com", GOOD)
        .await
        .unwrap();
    for email in ["a@example.com", "ghost@example.com"] {
        for i in 0..throttle::MAX_PER_EMAIL {
            let addr = format!("10.1.0.{i}");
            assert_eq!(
                sign_in(&pool, email, "wrong", Some(&addr))
                    .await
                    .unwrap_err(),
                AppError::BadCredentials
            );
        }
        // Even the right password is refused now, from a fresh address, for both emails alike.
        assert_eq!(
            sign_in(&pool, email, GOOD, Some("10.9.9.9"))
                .await
                .unwrap_err(),
            AppError::RateLimited
        );
    }
    // Another account is unaffected.
    create_user(&pool, &config(true, &[]), "b@example.com", GOOD)
        .await
        .unwrap();
    sign_in(&pool, "b@example.com", GOOD, Some("10.9.9.9"))
        .await
        .unwrap();
    // The window passes.
    sqlx::query("update failed_logins set at = now() - interval '16 minutes'")
        .execute(&pool)
        .await
        .unwrap();
    sign_in(&pool, "a@example.com", GOOD, None).await.unwrap();
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn sign_in_is_limited_per_address(pool: PgPool) {
    create_user(&pool, &config(true, &[]), "a@example.com", GOOD)
        .await
        .unwrap();
    for i in 0..throttle::MAX_PER_ADDRESS {
        let email = format!("guess{i}@example.com");
        assert_eq!(
            sign_in(&pool, &email, "wrong", Some("192.0.2.7"))
                .await
                .unwrap_err(),
            AppError::BadCredentials
        );
    }
    assert_eq!(
        sign_in(&pool, "a@example.com", GOOD, Some("192.0.2.7"))
            .await
            .unwrap_err(),
        AppError::RateLimited
    );
    sign_in(&pool, "a@example.com", GOOD, Some("192.0.2.8"))
        .await
        .unwrap();
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn changing_the_password_rotates_the_session_epoch(pool: PgPool) {
    let user = create_user(&pool, &config(true, &[]), "a@example.com", GOOD)
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
        sign_in(&pool, "a@example.com", GOOD, None)
            .await
            .unwrap_err(),
        AppError::BadCredentials
    );
    sign_in(&pool, "a@example.com", new, None).await.unwrap();
}
