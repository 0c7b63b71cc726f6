//! `/readyz` follows Postgres: it fails while the database is away and recovers, without a
//! restart, when it comes back. Postgres is "taken away" by cutting a TCP proxy in front of it.

mod support;

use std::{net::SocketAddr, time::Duration};

use axum::http::StatusCode;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use support::{tcp_switch::Switch, Browser};

#[sqlx::test(migrator = "app::state::MIGRATOR")]
async fn readyz_fails_while_postgres_is_away_and_recovers(
    _: PgPoolOptions,
    opts: PgConnectOptions,
) {
    let upstream: SocketAddr = tokio::net::lookup_host((opts.get_host(), opts.get_port()))
        .await
        .unwrap()
        .find(SocketAddr::is_ipv4)
        .expect("the test database is reached over TCP");
    let switch = Switch::start(upstream).await;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(1))
        .connect_with(opts.clone().host("127.0.0.1").port(switch.addr.port()))
        .await
        .unwrap();
    let mut browser = Browser::new(pool, false).await;

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
    let mut ready = false;
    for _ in 0..50 {
        if browser.get("/readyz").await.status == StatusCode::OK {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        ready,
        "readyz recovers once Postgres is back, without a restart"
    );
}
