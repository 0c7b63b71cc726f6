//! Postgres going away and coming back: `/readyz` follows it, every page explains it with a 503,
//! and all of it recovers without a restart. Postgres is "taken away" by cutting a TCP proxy in
//! front of it.

use std::{net::SocketAddr, time::Duration};

use crate::support::{tcp_switch::Switch, Browser};
use axum::http::{header, StatusCode};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// A browser on a server whose only way to Postgres runs through a switch.
async fn behind_a_switch(opts: PgConnectOptions) -> (Switch, Browser) {
    let upstream: SocketAddr = tokio::net::lookup_host((opts.get_host(), opts.get_port()))
        .await
        .unwrap()
        .find(SocketAddr::is_ipv4)
        .expect("the test database is reached over TCP");
    let switch = Switch::start(upstream).await;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(1))
        .connect_with(opts.host("127.0.0.1").port(switch.addr.port()))
        .await
        .unwrap();
    (switch, Browser::new(pool, false).await)
}

/// Asks for `path` until it answers 200 (at most five seconds).
async fn recovers(browser: &mut Browser, path: &str) -> bool {
    for _ in 0..50 {
        if browser.get(path).await.status == StatusCode::OK {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn readyz_fails_while_postgres_is_away_and_recovers(
    _: PgPoolOptions,
    opts: PgConnectOptions,
) {
    let (switch, mut browser) = behind_a_switch(opts).await;
    assert_eq!(browser.get("/readyz").await.status, StatusCode::OK);

    switch.off().await;
    let down = browser.get("/readyz").await;
    assert_eq!(
        (down.status, down.body.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    );
    assert_eq!(
        browser.get("/healthz").await.status,
        StatusCode::OK,
        "the process itself is fine"
    );

    switch.on().await;
    assert!(
        recovers(&mut browser, "/readyz").await,
        "readyz recovers once Postgres is back, without a restart"
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn signed_in_pages_explain_a_database_outage_with_503_and_recover(
    _: PgPoolOptions,
    opts: PgConnectOptions,
) {
    let (switch, mut browser) = behind_a_switch(opts).await;
    browser
        .sign_up("outage@example.com", "a long enough passphrase")
        .await;
    assert_eq!(browser.get("/").await.status, StatusCode::OK);

    switch.off().await;
    for path in ["/", "/c/1/some-bucket/a/b/", "/account", "/admin"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(
            page.body
                .contains("Crossview cannot reach its database right now"),
            "{path}: {}",
            page.body
        );
        assert_eq!(page.header("retry-after"), "15", "{path}");
        assert_eq!(page.header("cache-control"), "no-store", "{path}");
    }
    // A hydrated page's server-function call gets the error it knows how to show.
    let call = browser.call("connections", "").await;
    assert_eq!(call.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        call.headers[header::CONTENT_TYPE],
        "application/json",
        "{}",
        call.body
    );
    assert_eq!(
        serde_json::from_str::<app::error::AppError>(&call.body).unwrap(),
        app::error::AppError::Unavailable
    );

    switch.on().await;
    assert!(
        recovers(&mut browser, "/").await,
        "the same session works again once Postgres is back"
    );
    assert!(browser.get("/").await.body.contains("outage@example.com"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn signing_in_while_postgres_is_away_is_the_same_503(
    _: PgPoolOptions,
    opts: PgConnectOptions,
) {
    let (switch, mut browser) = behind_a_switch(opts).await;
    let password = "a long enough passphrase";
    browser.sign_up("away@example.com", password).await;
    let mut stranger = browser.another();

    switch.off().await;
    let form = stranger.sign_in("away@example.com", password).await;
    assert_eq!(
        form.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        form.location()
    );
    assert!(
        form.body
            .contains("Crossview cannot reach its database right now"),
        "{}",
        form.body
    );
    assert_eq!(form.header("retry-after"), "15");
    let call = stranger
        .call("sign_in", "email=away%40example.com&password=x&next=")
        .await;
    assert_eq!(
        call.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        call.body
    );
    assert_eq!(
        serde_json::from_str::<app::error::AppError>(&call.body).unwrap(),
        app::error::AppError::Unavailable
    );

    switch.on().await;
    let mut signed_in = false;
    for _ in 0..50 {
        if stranger
            .sign_in("away@example.com", password)
            .await
            .location()
            == "/"
        {
            signed_in = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(signed_in, "signing in works again once Postgres is back");
}
