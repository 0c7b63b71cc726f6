//! What the sign-in page offers (`SIGN_IN_METHODS`), accounts without a password (made by single
//! sign-on), and step-up before what can hand over data, through the real router.

use app::auth::ssr::{
    reset::{self},
    sso::NO_PASSWORD,
    Account,
};
use axum::http::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

use crate::support::{config_with, state_with, Browser};

const PASSWORD: &str = "a long enough passphrase";

/// An OpenID provider's settings (never contacted by these tests).
const SSO: [(&str, &str); 6] = [
    ("OIDC_ISSUER", "https://idp.example.com"),
    ("OIDC_CLIENT_ID", "crossview"),
    ("OIDC_CLIENT_SECRET", "s3cret"),
    ("OIDC_LABEL", "Example IdP"),
    ("PUBLIC_URL", "https://crossview.example.com"),
    ("OIDC_ALLOWED_DOMAINS", "example.com"),
];

async fn browser(pool: &PgPool, extra: &[(&str, &str)]) -> Browser {
    let env: Vec<(&str, &str)> = SSO.iter().copied().chain(extra.iter().copied()).collect();
    Browser::on(state_with(pool.clone(), config_with(false, &env)).await)
}

fn json(page: &crate::support::Page) -> Value {
    serde_json::from_str(&page.body).unwrap_or_else(|_| panic!("not JSON: {}", page.body))
}

/// Signs the browser in through a one-time reset link, as the operator's break-glass path does.
async fn through_reset_link(pool: &PgPool, browser: &mut Browser, email: &str, new: &str) {
    let path = reset::issue(pool, None, Account::Email(email))
        .await
        .unwrap();
    let token = path.trim_start_matches("/reset/");
    let page = browser
        .post_form(
            "/api/reset_password",
            &[
                ("token", token),
                ("new_password", new),
                ("confirm_password", new),
            ],
        )
        .await;
    assert_eq!(page.location(), "/account?reset=1", "{}", page.body);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn with_single_sign_on_only_passwords_are_refused_but_the_operator_link_still_works(
    pool: PgPool,
) {
    let mut open = browser(&pool, &[]).await;
    let ways = json(&open.call("sign_in_ways", "").await);
    assert_eq!(ways["password"], true);
    assert_eq!(ways["providers"][0][1], "Example IdP");
    let page = open.sign_up("owner@example.com", PASSWORD).await;
    assert_eq!(page.location(), "/");

    let mut sso_only = browser(&pool, &[("SIGN_IN_METHODS", "sso")]).await;
    let ways = json(&sso_only.call("sign_in_ways", "").await);
    assert_eq!(ways["password"], false);
    assert_eq!(ways["passkey"], false);
    let body = "email=owner%40example.com&password=a+long+enough+passphrase&next=";
    let refused = sso_only.call("sign_in", body).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("SignInMethodOff"), "{}", refused.body);
    let refused = sso_only
        .call(
            "sign_up",
            "email=new%40example.com&password=another+long+passphrase",
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(json(&sso_only.call("current_user", "").await).is_null());

    // Break-glass: the operator's reset link signs the owner in all the same.
    through_reset_link(
        &pool,
        &mut sso_only,
        "owner@example.com",
        "a brand new long passphrase",
    )
    .await;
    let who = json(&sso_only.call("current_user", "").await);
    assert_eq!(who["email"], "owner@example.com");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_account_made_by_single_sign_on_has_no_password_to_guess(pool: PgPool) {
    sqlx::query("insert into users (email, password_hash) values ($1, $2)")
        .bind("sso@example.com")
        .bind(NO_PASSWORD)
        .execute(&pool)
        .await
        .unwrap();
    let mut browser = browser(&pool, &[]).await;
    for guess in [NO_PASSWORD, "", PASSWORD] {
        let body = format!("email=sso%40example.com&password={guess}&next=");
        let page = browser.call("sign_in", &body).await;
        assert_eq!(
            page.status,
            StatusCode::UNAUTHORIZED,
            "{guess:?}: {}",
            page.body
        );
    }
    assert!(json(&browser.call("current_user", "").await).is_null());
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_session_without_a_fresh_proof_steps_up_before_creating_a_connection(pool: PgPool) {
    let mut browser = browser(&pool, &[]).await;
    browser.sign_up("owner@example.com", PASSWORD).await;
    let fresh = json(&browser.call("step_up_ways", "").await);
    assert_eq!(fresh["fresh"], true, "signing up proves the user");

    // A reset link signs in without proving who holds the session.
    let new = "a brand new long passphrase";
    through_reset_link(&pool, &mut browser, "owner@example.com", new).await;
    let ways = json(&browser.call("step_up_ways", "").await);
    assert_eq!(ways["fresh"], false);
    assert_eq!(
        ways["password"], true,
        "no second factor: the password steps up"
    );
    assert_eq!(ways["code"], false);

    let create = "name=Production&external_id=";
    let refused = browser.call("connection_create", create).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("StepUpRequired"), "{}", refused.body);
    // Without script, the form's post goes to the page that asks, and from there back to the
    // form with what was typed; a wrong answer comes back to that page.
    let fields = [("name", "Prod & co/2026"), ("external_id", "")];
    let plain = browser.post_form("/api/connection_create", &fields).await;
    let next = "/connections/new%3Fname%3DProd%2520%2526%2520co/2026";
    assert_eq!(plain.location(), format!("/confirm?next={next}"));
    let page = browser.get(plain.location()).await;
    assert!(
        page.body.contains("Your password"),
        "asked in order: {}",
        page.body
    );
    let back = "/connections/new?name=Prod%20%26%20co/2026";
    let wrong = [("secret", "not the password at all"), ("next", back)];
    let page = browser.post_form("/api/step_up", &wrong).await;
    assert_eq!(
        page.location(),
        format!(
            "/confirm?next={}&error=WrongCurrentPassword",
            app::url::encode_component(back)
        )
    );
    let wrong = browser
        .call("step_up", "secret=not+the+password+at+all")
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
    assert!(
        wrong.body.contains("WrongCurrentPassword"),
        "{}",
        wrong.body
    );
    let old = browser
        .call("step_up", "secret=a+long+enough+passphrase")
        .await;
    assert_eq!(
        old.status,
        StatusCode::BAD_REQUEST,
        "the old password: {}",
        old.body
    );

    let stepped = browser
        .call("step_up", "secret=a+brand+new+long+passphrase")
        .await;
    assert_eq!(stepped.status, StatusCode::OK, "{}", stepped.body);
    let created = browser.call("connection_create", create).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'connection.create'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(audited, 1);
}
