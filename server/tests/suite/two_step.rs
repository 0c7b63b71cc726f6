//! Two-step sign-in through the real router: an authenticator app set up from its QR code's
//! secret, the sign-in's second step, recovery codes, the attempt limit, and `REQUIRE_MFA`.
//! The codes come from `totp-rs` playing the phone's part.

use axum::http::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use totp_rs::{Builder, Secret};

use crate::support::{config_with, state_with, Browser};

const PASSWORD: &str = "a long enough passphrase";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The phone: the code its app shows at `at` for the secret the setup page showed.
fn code_at(secret: &str, at: u64) -> String {
    let secret = Secret::try_from_base32(secret).unwrap();
    let app = Builder::new().with_secret(secret).build().unwrap();
    app.generate(at).to_string()
}

fn json(page: &crate::support::Page) -> Value {
    serde_json::from_str(&page.body).unwrap_or_else(|_| panic!("not JSON: {}", page.body))
}

/// Starts the setup and reads the secret off the setup page's data.
async fn begin(browser: &mut Browser) -> String {
    let page = browser.post_form("/api/two_step_begin", &[]).await;
    assert_eq!(page.location(), "/account#two-step");
    let setup = json(&browser.call("two_step_setup", "").await);
    let uri = setup["uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Crossview:"), "{uri}");
    assert!(setup["qr_svg"].as_str().unwrap().starts_with("<svg"));
    setup["secret"].as_str().unwrap().to_owned()
}

/// Sets an authenticator app up; returns its secret and the recovery codes.
async fn enrol(browser: &mut Browser) -> (String, Vec<String>) {
    let secret = begin(browser).await;
    let body = format!(
        "current_password={}&code={}",
        PASSWORD.replace(' ', "+"),
        code_at(&secret, now())
    );
    let page = browser.call("two_step_confirm", &body).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let codes: Vec<String> = serde_json::from_str(&page.body).unwrap();
    (secret, codes)
}

async fn signed_in_as(browser: &mut Browser) -> Option<String> {
    let who = json(&browser.call("current_user", "").await);
    who["email"].as_str().map(str::to_owned)
}

async fn code_step(browser: &mut Browser, code: &str) -> String {
    let page = browser
        .post_form("/api/sign_in_code", &[("code", code), ("next", "/shares")])
        .await;
    page.location().to_owned()
}

async fn actions(pool: &PgPool, like: &str) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        "select action, detail->>'method' from audit_events where action like $1 order by id",
    )
    .bind(like)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_authenticator_app_becomes_the_second_step_and_each_code_works_once(pool: PgPool) {
    let mut owner = Browser::new(pool.clone(), true).await;
    owner.sign_up("two@example.com", PASSWORD).await;
    let mut elsewhere = owner.another();
    elsewhere.sign_in("two@example.com", PASSWORD).await;

    // The app is on only once a first code and the password prove the phone and the person.
    let secret = begin(&mut owner).await;
    let wrong_password = format!("current_password=nope&code={}", code_at(&secret, now()));
    let page = owner.call("two_step_confirm", &wrong_password).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains("WrongCurrentPassword"));
    let wrong_code = format!(
        "current_password={}&code=000000",
        PASSWORD.replace(' ', "+")
    );
    let page = owner.call("two_step_confirm", &wrong_code).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
    assert!(page.body.contains("CodeInvalid"));
    let status = json(&owner.call("two_step_status", "").await);
    assert_eq!(
        (status["on"].as_bool(), status["setting_up"].as_bool()),
        (Some(false), Some(true))
    );

    let body = format!(
        "current_password={}&code={}",
        PASSWORD.replace(' ', "+"),
        code_at(&secret, now())
    );
    let page = owner.call("two_step_confirm", &body).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let codes: Vec<String> = serde_json::from_str(&page.body).unwrap();
    assert_eq!(codes.len(), 10);
    assert!(codes
        .iter()
        .all(|c| c.len() == 19 && c.matches('-').count() == 3));
    // This session goes on; the one signed in elsewhere ended with the change of factors.
    assert_eq!(
        signed_in_as(&mut owner).await.as_deref(),
        Some("two@example.com")
    );
    assert_eq!(signed_in_as(&mut elsewhere).await, None);
    let status = json(&owner.call("two_step_status", "").await);
    assert_eq!(
        (
            status["on"].as_bool(),
            status["recovery_codes_left"].as_i64()
        ),
        (Some(true), Some(10))
    );

    // A right password alone is half a sign-in.
    let mut laptop = owner.another();
    let page = laptop.sign_in("two@example.com", PASSWORD).await;
    assert_eq!(page.location(), "/sign-in/code?next=/");
    assert_eq!(signed_in_as(&mut laptop).await, None);
    assert!(laptop
        .get("/shares")
        .await
        .location()
        .starts_with("/sign-in?next="));
    assert_eq!(
        code_step(&mut laptop, "123456").await,
        "/sign-in/code?error=CodeInvalid&next=/shares"
    );
    // The code that turned the app on was spent: the next step's code (within the one step of
    // drift allowed) signs in, once.
    assert!(code_step(&mut laptop, &code_at(&secret, now()))
        .await
        .contains("CodeInvalid"));
    let next = code_at(&secret, now() + 30);
    assert_eq!(code_step(&mut laptop, &next).await, "/shares");
    assert_eq!(
        signed_in_as(&mut laptop).await.as_deref(),
        Some("two@example.com")
    );
    let mut replay = owner.another();
    replay.sign_in("two@example.com", PASSWORD).await;
    assert!(code_step(&mut replay, &next).await.contains("CodeInvalid"));
    assert_eq!(signed_in_as(&mut replay).await, None);

    // The trail says how each sign-in was proved.
    let trail = actions(&pool, "%").await;
    let names: Vec<(&str, Option<&str>)> = trail
        .iter()
        .map(|(a, m)| (a.as_str(), m.as_deref()))
        .collect();
    assert!(
        names.contains(&("account.sign_in", Some("password"))),
        "{names:?}"
    );
    assert!(names.contains(&("factor.add", None)), "{names:?}");
    assert!(
        names.contains(&("account.sign_in", Some("password+totp"))),
        "{names:?}"
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn recovery_codes_sign_in_once_each_say_what_remains_and_renew(pool: PgPool) {
    let mut owner = Browser::new(pool.clone(), true).await;
    owner.sign_up("lost@example.com", PASSWORD).await;
    let (_, codes) = enrol(&mut owner).await;

    // Typed as people type them: upper case, without the dashes.
    let typed = codes[0].replace('-', " ").to_uppercase();
    let mut borrowed = owner.another();
    borrowed.sign_in("lost@example.com", PASSWORD).await;
    assert_eq!(
        code_step(&mut borrowed, &typed).await,
        "/account?recovery_left=9#two-step"
    );
    assert_eq!(
        signed_in_as(&mut borrowed).await.as_deref(),
        Some("lost@example.com")
    );
    let mut again = owner.another();
    again.sign_in("lost@example.com", PASSWORD).await;
    assert!(code_step(&mut again, &codes[0])
        .await
        .contains("CodeInvalid"));
    assert_eq!(
        actions(&pool, "account.sign_in")
            .await
            .last()
            .unwrap()
            .1
            .as_deref(),
        Some("password+recovery_code")
    );

    // New codes: the old ones stop working.
    let page = owner
        .call(
            "recovery_codes_renew",
            &format!("current_password={}", PASSWORD.replace(' ', "+")),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let renewed: Vec<String> = serde_json::from_str(&page.body).unwrap();
    assert!(renewed.iter().all(|c| !codes.contains(c)));
    assert!(code_step(&mut again, &codes[1])
        .await
        .contains("CodeInvalid"));
    assert_eq!(
        code_step(&mut again, &renewed[0]).await,
        "/account?recovery_left=9#two-step"
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn guesses_at_the_second_step_are_limited_but_never_lock_out_a_trusted_browser(pool: PgPool) {
    let mut owner = Browser::new(pool.clone(), true).await;
    owner.sign_up("held@example.com", PASSWORD).await;
    let (secret, _) = enrol(&mut owner).await;
    assert!(owner.device.is_some(), "signing up trusts this browser");

    // Someone who has the password but not the phone.
    let mut thief = owner.another();
    thief.sign_in("held@example.com", PASSWORD).await;
    for guess in ["111111", "222222", "333333", "444444", "555555"] {
        assert!(code_step(&mut thief, guess).await.contains("CodeInvalid"));
    }
    assert!(code_step(&mut thief, "666666")
        .await
        .contains("RateLimited"));
    // Even the right code is refused there now ...
    let right = code_at(&secret, now() + 30);
    assert!(code_step(&mut thief, &right).await.contains("RateLimited"));
    // ... while the owner's own browser counts on its own.
    owner.post_form("/api/sign_out", &[]).await;
    assert_eq!(
        owner.sign_in("held@example.com", PASSWORD).await.location(),
        "/sign-in/code?next=/"
    );
    assert_eq!(code_step(&mut owner, &right).await, "/shares");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_password_change_between_the_steps_voids_the_first(pool: PgPool) {
    let mut owner = Browser::new(pool.clone(), true).await;
    owner.sign_up("change@example.com", PASSWORD).await;
    let (secret, _) = enrol(&mut owner).await;
    let mut other = owner.another();
    other.sign_in("change@example.com", PASSWORD).await;
    let fresh = "another long passphrase, changed";
    let page = owner
        .post_form(
            "/api/change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", fresh),
                ("confirm_password", fresh),
            ],
        )
        .await;
    assert_eq!(page.location(), "/account?changed=1");
    let code = code_at(&secret, now() + 30);
    assert!(code_step(&mut other, &code)
        .await
        .contains("SecondStepExpired"));
    assert_eq!(signed_in_as(&mut other).await, None);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn turning_it_off_takes_the_password_and_ends_other_sessions(pool: PgPool) {
    let mut owner = Browser::new(pool.clone(), true).await;
    owner.sign_up("off@example.com", PASSWORD).await;
    let (secret, _) = enrol(&mut owner).await;
    let mut other = owner.another();
    other.sign_in("off@example.com", PASSWORD).await;
    code_step(&mut other, &code_at(&secret, now() + 30)).await;
    assert!(signed_in_as(&mut other).await.is_some());

    let page = owner
        .post_form("/api/two_step_remove", &[("current_password", "wrong one")])
        .await;
    assert_eq!(
        page.location(),
        "/account?section=two-step&error=WrongCurrentPassword"
    );
    let page = owner
        .post_form("/api/two_step_remove", &[("current_password", PASSWORD)])
        .await;
    assert_eq!(page.location(), "/account?two_step=off#two-step");
    assert_eq!(signed_in_as(&mut other).await, None);
    assert_eq!(
        signed_in_as(&mut owner).await.as_deref(),
        Some("off@example.com")
    );
    assert_eq!(
        other.sign_in("off@example.com", PASSWORD).await.location(),
        "/"
    );
    assert_eq!(actions(&pool, "factor.%").await.len(), 2);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn by_default_an_administrator_without_a_second_factor_is_sent_to_set_one_up(pool: PgPool) {
    // The deployment's default policy (the tests' configuration otherwise turns it off).
    let config = config_with(true, &[("REQUIRE_MFA", "admins")]);
    let mut admin = Browser::on(state_with(pool.clone(), config).await);
    admin.sign_up_admin("root@example.com", PASSWORD).await;
    let page = admin.get("/admin/users").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/account?second_factor=required#two-step");
    let page = admin.call("admin_users", "").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.body.contains("SecondFactorRequired"));
    // Their own pages still work, and so does the page that sets a factor up.
    assert_eq!(admin.get("/shares").await.status, StatusCode::OK);
    assert_eq!(admin.get("/account").await.status, StatusCode::OK);

    let (secret, _) = enrol(&mut admin).await;
    assert_eq!(admin.get("/admin/users").await.status, StatusCode::OK);
    assert_eq!(admin.call("admin_users", "").await.status, StatusCode::OK);

    // A later sign-in proves the factor again before the console opens.
    admin.post_form("/api/sign_out", &[]).await;
    admin.sign_in("root@example.com", PASSWORD).await;
    assert!(admin
        .get("/admin/users")
        .await
        .location()
        .starts_with("/sign-in"));
    code_step(&mut admin, &code_at(&secret, now() + 30)).await;
    assert_eq!(admin.call("admin_users", "").await.status, StatusCode::OK);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn require_mfa_all_holds_every_page_but_the_setup(pool: PgPool) {
    let config = config_with(true, &[("REQUIRE_MFA", "all")]);
    let mut user = Browser::on(state_with(pool.clone(), config).await);
    user.sign_up("everyone@example.com", PASSWORD).await;
    assert_eq!(
        user.get("/").await.location(),
        "/account?second_factor=required#two-step"
    );
    let page = user.call("connections", "").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    enrol(&mut user).await;
    assert_eq!(user.get("/").await.status, StatusCode::OK);
    assert_eq!(user.call("connections", "").await.status, StatusCode::OK);
}
