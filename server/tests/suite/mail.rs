//! Email through a real SMTP server (aiosmtpd, started by scripts/test.sh, delivering into a
//! Maildir): a reset link a user asks for themselves, followed from the delivered message, and
//! the notices of a new sign-in and of two-step sign-in turned on.

use std::time::Duration;

use axum::http::StatusCode;
use sqlx::PgPool;

use crate::support::{config_with, state_with, Browser};

const PASSWORD: &str = "a long enough passphrase";

fn smtp_url() -> String {
    std::env::var("SMTP_TEST_URL").expect("SMTP_TEST_URL: run scripts/test.sh")
}

/// A browser on a deployment that sends email through the test's mail server.
pub async fn mailing(pool: &PgPool) -> Browser {
    let url = smtp_url();
    let env = [
        ("SMTP_URL", url.as_str()),
        ("MAIL_FROM", "Crossview <crossview@crossview.test>"),
        ("PUBLIC_URL", "http://crossview.test"),
    ];
    Browser::on(state_with(pool.clone(), config_with(true, &env)).await)
}

/// Every delivered message to `to`, as its raw text with quoted-printable line breaks undone,
/// waiting up to 10 seconds for at least `count`.
pub async fn messages_to(to: &str, count: usize) -> Vec<String> {
    let dir = std::path::PathBuf::from(std::env::var("MAIL_TEST_DIR").unwrap()).join("new");
    for _ in 0..100 {
        let found: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                    .map(|m| {
                        m.replace("=\r\n", "")
                            .replace("=\n", "")
                            .replace("=3D", "=")
                    })
                    .filter(|m| m.contains(&format!("To: {to}")))
                    .collect()
            })
            .unwrap_or_default();
        if found.len() >= count {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Vec::new()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_user_resets_their_own_password_through_the_emailed_link(pool: PgPool) {
    let mut someone = mailing(&pool).await;
    let email = format!("forgot-{}@example.com", std::process::id());
    someone.sign_up(&email, PASSWORD).await;
    let mut visitor = someone.another();

    // The same answer for an address with an account and one without.
    let page = visitor
        .post_form("/api/forgot_password", &[("email", &email)])
        .await;
    assert_eq!(page.location(), "/forgot?sent=1");
    let nobody = format!("nobody-{}@example.com", std::process::id());
    let page = visitor
        .post_form("/api/forgot_password", &[("email", &nobody)])
        .await;
    assert_eq!(page.location(), "/forgot?sent=1");

    let mail = messages_to(&email, 1).await;
    let message = mail
        .iter()
        .find(|m| m.contains("Subject: Reset your Crossview password"))
        .expect("the reset message was delivered");
    assert!(
        message.contains("Content-Type: text/plain") && message.contains("Content-Type: text/html")
    );
    let at = message.find("http://crossview.test/reset/").unwrap();
    let link = &message[at..at + "http://crossview.test/reset/".len() + 64];
    let token = link.rsplit('/').next().unwrap();
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{link}");

    // Followed: it names the account and sets a new password, once.
    let page = visitor.call("reset_link", &format!("token={token}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&email));
    let fresh = "a brand new passphrase, emailed";
    let form = [
        ("token", token),
        ("new_password", fresh),
        ("confirm_password", fresh),
    ];
    let page = visitor.post_form("/api/reset_password", &form).await;
    assert_eq!(page.location(), "/account?reset=1");
    let page = visitor.post_form("/api/reset_password", &form).await;
    assert!(
        page.location().contains("error=ResetLinkInvalid"),
        "{}",
        page.location()
    );
    assert_eq!(
        someone.call("my_sessions", "").await.status,
        StatusCode::UNAUTHORIZED
    );
    let lifetime: f64 = sqlx::query_scalar(
        "select extract(epoch from expires_at - created_at)::float8 from password_resets",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(lifetime, 1800.0);
    assert!(messages_to(&nobody, 0).await.is_empty());
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_sign_in_from_a_new_browser_and_a_new_factor_are_told_by_email(pool: PgPool) {
    let mut owner = mailing(&pool).await;
    let email = format!("told-{}@example.com", std::process::id());
    owner.sign_up(&email, PASSWORD).await;
    // The browser that signed up is trusted: signing in there again tells nobody.
    owner.post_form("/api/sign_out", &[]).await;
    owner.sign_in(&email, PASSWORD).await;
    let mut stranger = owner.another();
    stranger.headers.push((
        "user-agent".into(),
        "Mozilla/5.0 (Windows NT 10.0) Firefox/140.0".into(),
    ));
    assert_eq!(stranger.sign_in(&email, PASSWORD).await.location(), "/");
    let mail = messages_to(&email, 1).await;
    let signs: Vec<&String> = mail
        .iter()
        .filter(|m| m.contains("Subject: A new sign-in to your Crossview account"))
        .collect();
    assert_eq!(signs.len(), 1, "{mail:?}");
    assert!(signs[0].contains("Firefox on Windows"));
    assert!(signs[0].contains("http://crossview.test/account#sessions"));

    let page = owner.post_form("/api/two_step_begin", &[]).await;
    assert_eq!(page.location(), "/account#two-step");
    let setup: serde_json::Value =
        serde_json::from_str(&owner.call("two_step_setup", "").await.body).unwrap();
    let secret = totp_rs::Secret::try_from_base32(setup["secret"].as_str().unwrap()).unwrap();
    let code = totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .unwrap()
        .generate_current()
        .to_string();
    let body = format!(
        "current_password={}&code={code}",
        PASSWORD.replace(' ', "+")
    );
    assert_eq!(
        owner.call("two_step_confirm", &body).await.status,
        StatusCode::OK
    );
    let mail = messages_to(&email, 2).await;
    assert!(
        mail.iter()
            .any(|m| m.contains("Subject: Two-step sign-in is on")),
        "{mail:?}"
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn without_a_mail_server_the_page_says_to_ask_an_administrator(pool: PgPool) {
    let mut visitor = Browser::new(pool, true).await;
    let page = visitor
        .post_form("/api/forgot_password", &[("email", "a@example.com")])
        .await;
    assert_eq!(
        page.location(),
        "/forgot?error=MailOff&email=a%40example.com"
    );
}
