//! The skeleton seen over HTTP: sessions, cookies, caching, account flows.

use crate::support::Browser;
use axum::http::StatusCode;
use sqlx::PgPool;

pub(crate) const PASSWORD: &str = "a long enough passphrase";

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn pages_need_a_session(pool: PgPool) {
    let mut browser = Browser::new(pool, true).await;
    for (path, next) in [
        ("/", "/"),
        ("/admin", "/admin"),
        ("/account?tab=1", "/account%3Ftab%3D1"),
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location(), format!("/sign-in?next={next}"));
    }
    let sign_in = browser.get("/sign-in?next=/admin").await;
    assert_eq!(sign_in.status, StatusCode::OK);
    // Rendered into the form itself, so it works before hydration.
    assert!(
        sign_in.body.contains(r#"name="next" value="/admin""#),
        "{}",
        sign_in.body
    );
    assert!(sign_in.body.contains("Sign in"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn session_cookie_flags(pool: PgPool) {
    let mut secure = Browser::new(pool.clone(), true).await;
    let page = secure.sign_up("a@example.com", PASSWORD).await;
    assert_eq!(page.status, StatusCode::FOUND);
    assert_eq!(page.location(), "/");
    let set: Vec<&str> = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let named = |prefix: &str| *set.iter().find(|c| c.starts_with(prefix)).unwrap();
    // Over HTTPS the name is `__Host-` prefixed: no subdomain can plant or overwrite it.
    let cookie = named("__Host-crossview_session=");
    for flag in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing in {cookie}");
    }
    // The device cookie that keeps this browser trusted for the account (no lockout).
    let device = named("__Host-crossview_device=");
    for flag in [
        "HttpOnly",
        "SameSite=Strict",
        "Secure",
        "Path=/",
        "Max-Age=",
    ] {
        assert!(device.contains(flag), "{flag} missing in {device}");
    }
    assert!(!device.contains("Domain"), "{device}");
    assert!(!cookie.contains("Domain"), "{cookie}");

    // Development (plain http on localhost) drops only the Secure flag.
    let mut dev = Browser::new(pool, false).await;
    let signed_in = dev.sign_in("a@example.com", PASSWORD).await;
    let cookie = signed_in
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("crossview_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(cookie.starts_with("crossview_session="), "{cookie}");
}

/// Nothing one user sees may be kept by a browser's or a proxy's cache: pages, server-function
/// answers and redirects are `no-store`; only the site's own static files may be cached.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn only_static_files_may_be_cached(pool: PgPool) {
    let mut browser = Browser::new(pool, false).await;
    let signed_up = browser.sign_up("cache@example.com", PASSWORD).await;
    assert_eq!(signed_up.header("cache-control"), "no-store");
    for path in ["/", "/account", "/admin", "/sign-in", "/healthz"] {
        let page = browser.get(path).await;
        assert_eq!(page.header("cache-control"), "no-store", "{path}");
    }
    let answer = browser.call("connections", "").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.header("cache-control"), "no-store");
    let refused = browser.call("connection", "id=999").await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(refused.header("cache-control"), "no-store");
    let asset = browser.get("/pkg/crossview.css").await;
    assert_ne!(asset.header("cache-control"), "no-store");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn sign_up_then_the_shell_then_sign_out(pool: PgPool) {
    let mut browser = Browser::new(pool, false).await;
    browser.sign_up("first@example.com", PASSWORD).await;
    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body.contains("first@example.com"),
        "the header names the user"
    );
    // Being first proves nothing: only the operator's bootstrap token makes an administrator.
    assert_ne!(browser.get("/admin").await.status, StatusCode::OK);
    let mut owner = browser.another();
    let guessed = [
        ("email", "guess@example.com"),
        ("password", PASSWORD),
        ("bootstrap", "a-guessed-token-of-some-length"),
    ];
    let refused = owner.post_form("/api/sign_up", &guessed).await;
    assert!(
        refused
            .location()
            .starts_with("/sign-up?error=BootstrapRefused"),
        "{}",
        refused.location()
    );
    owner.sign_up_admin("owner@example.com", PASSWORD).await;
    assert_eq!(owner.get("/admin").await.status, StatusCode::OK);
    // Spent: the next one with the token is refused, and the form says why.
    let mut late = browser.another();
    let again = [
        ("email", "late@example.com"),
        ("password", PASSWORD),
        ("bootstrap", crate::support::BOOTSTRAP),
    ];
    let refused = late.post_form("/api/sign_up", &again).await;
    let page = late.get(refused.location()).await;
    assert!(
        page.body.contains("already has an administrator"),
        "{}",
        page.body
    );
    // Signed in, the sign-in page sends you home.
    assert_eq!(browser.get("/sign-in").await.location(), "/");

    let out = browser.post_form("/api/sign_out", &[]).await;
    assert_eq!(out.location(), "/sign-in");
    assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn plain_form_errors_come_back_to_the_form(pool: PgPool) {
    let mut browser = Browser::new(pool, false).await;
    let page = browser.sign_up("not an email", PASSWORD).await;
    assert_eq!(
        (page.status, page.location()),
        (
            StatusCode::FOUND,
            "/sign-up?error=EmailInvalid&email=not%20an%20email"
        )
    );
    let form = browser.get(page.location()).await;
    assert!(
        form.body.contains("Enter a valid email address"),
        "the message is rendered"
    );

    browser.sign_up("a@example.com", PASSWORD).await;
    browser.post_form("/api/sign_out", &[]).await;
    assert_eq!(
        browser.sign_up("A@example.com", PASSWORD).await.location(),
        "/sign-up?error=EmailTaken&email=A%40example.com"
    );
    let wrong = browser
        .post_form(
            "/api/sign_in",
            &[
                ("email", "a@example.com"),
                ("password", "nope"),
                ("next", "/admin"),
            ],
        )
        .await;
    assert_eq!(
        wrong.location(),
        "/sign-in?error=BadCredentials&next=/admin&email=a%40example.com"
    );

    let right = browser
        .post_form(
            "/api/sign_in",
            &[
                ("email", "a@example.com"),
                ("password", PASSWORD),
                ("next", "/admin"),
            ],
        )
        .await;
    assert_eq!(
        right.location(),
        "/admin",
        "sign-in returns to where the visitor was going"
    );
}

/// `next` comes from the address bar: whatever it holds, sign-in answers with a redirect to a
/// same-site path (a header with a newline in it used to panic the handler).
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn sign_in_follows_only_same_site_paths_and_never_panics(pool: PgPool) {
    let mut browser = Browser::new(pool, true).await;
    browser.sign_up("next@example.com", PASSWORD).await;
    for (next, expected) in [
        ("/admin", "/admin"),
        ("/\n", "/"),
        ("/\r\nSet-Cookie: stolen=1", "/"),
        ("/ü", "/"),
        ("/a b", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
    ] {
        let page = browser
            .post_form(
                "/api/sign_in",
                &[
                    ("email", "next@example.com"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(page.status, 302, "{next:?}: {}", page.body);
        assert_eq!(page.location(), expected, "{next:?}");
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn hydrated_calls_get_the_error_itself(pool: PgPool) {
    let mut browser = Browser::new(pool, false).await;
    let req = browser
        .request("POST", "/api/sign_in")
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body("email=x%40example.com&password=wrongwrong&next=".into())
        .unwrap();
    let page = browser.send(req).await;
    assert_eq!(
        page.status,
        StatusCode::UNAUTHORIZED,
        "a wrong password is not a server error"
    );
    assert_eq!(page.location(), "");
    assert!(page.body.contains("BadCredentials"), "{}", page.body);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_password_change_ends_the_other_sessions(pool: PgPool) {
    let mut laptop = Browser::new(pool, false).await;
    laptop.sign_up("a@example.com", PASSWORD).await;
    let mut phone = laptop.another();
    phone.sign_in("a@example.com", PASSWORD).await;
    assert_eq!(phone.get("/").await.status, StatusCode::OK);

    let new = "another long passphrase";
    let before = laptop.cookie.clone();
    let done = laptop
        .post_form(
            "/api/change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("confirm_password", new),
            ],
        )
        .await;
    assert_eq!(done.location(), "/account?changed=1");
    assert_eq!(
        laptop.get("/").await.status,
        StatusCode::OK,
        "the session that changed it stays"
    );
    assert_eq!(
        phone.get("/").await.status,
        StatusCode::SEE_OTHER,
        "every other session ends"
    );
    // The session that made the change goes on under a new id; the old id is worth nothing.
    assert_ne!(laptop.cookie, before, "the session id rotates");
    let mut stolen = laptop.another();
    stolen.cookie = before;
    assert_eq!(stolen.get("/").await.status, StatusCode::SEE_OTHER);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_session_ends_at_its_absolute_lifetime_however_active(pool: PgPool) {
    let mut config = crate::support::config(false);
    let max = std::time::Duration::from_secs(3);
    config.session_max = max;
    let mut browser = Browser::on(crate::support::state_with(pool.clone(), config).await);
    browser.sign_up("a@example.com", PASSWORD).await;
    let started = std::time::Instant::now();
    // Active all along: a request every half second never lets the idle limit bite (for a
    // second and a half, leaving as long again for slow pages on a busy machine).
    while started.elapsed() < max / 2 {
        assert_eq!(browser.get("/").await.status, StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    tokio::time::sleep(
        (max + std::time::Duration::from_millis(300)).saturating_sub(started.elapsed()),
    )
    .await;
    let page = browser.get("/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/sign-in?next=/account");
    // Server functions see it ended too.
    let call = browser.call("current_user", "").await;
    assert_eq!(call.body, "null", "{}", call.body);
    // Signing in again starts a new lifetime; the default is 12 hours.
    browser.sign_in("a@example.com", PASSWORD).await;
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
    assert_eq!(
        crate::support::config(false).session_max,
        std::time::Duration::from_secs(12 * 3600)
    );
}
