//! A connection's ExternalId while it waits for its first verification: one Crossview generated
//! is replaced after 48 hours unverified (and retired, and audited); a verified connection's, or
//! one the user typed, stays.

use app::connections::ssr as connections;
use sqlx::PgPool;

use crate::support::{config_with, standin::owner};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_unverified_generated_external_id_is_replaced_after_48_hours(pool: PgPool) {
    let a = owner(&pool, "a@example.com").await;
    let allowed = &config_with(false, &[("ALLOW_CUSTOM_EXTERNAL_ID", "true")]);
    let new = |name: &'static str, own: Option<&'static str>| {
        let pool = pool.clone();
        async move {
            connections::create(&pool, allowed, a, (name, false), own)
                .await
                .unwrap()
        }
    };
    let (fresh, old, verified, typed) = (
        new("f", None).await,
        new("o", None).await,
        new("v", None).await,
        new("t", Some("typed-id")).await,
    );
    sqlx::query(
        "update connections set external_id_issued_at = now() - interval '49 hours' where id <> $1",
    )
    .bind(fresh)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("update connections set last_verified_at = now() where id = $1")
        .bind(verified)
        .execute(&pool)
        .await
        .unwrap();
    let original: String = sqlx::query_scalar("select external_id from connections where id = $1")
        .bind(old)
        .fetch_one(&pool)
        .await
        .unwrap();
    let ids = async |id| connections::get(&pool, a, id).await.unwrap().external_id;
    let renewed = ids(old).await;
    assert_ne!(renewed, original);
    assert_eq!(ids(old).await, renewed, "replaced once, then kept");
    let retired: Vec<String> = sqlx::query_scalar("select external_id from retired_external_ids")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(retired, [original], "the replaced ID is never given again");
    for id in [fresh, verified, typed] {
        assert!(
            !connections::renew_unverified(&pool, a, id).await.unwrap(),
            "{id} keeps its ID"
        );
    }
    assert_eq!(ids(typed).await, "typed-id");
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where action = 'connection.external_id_renew' and connection_id = $1",
    )
    .bind(old)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
}
