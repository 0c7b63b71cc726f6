//! Share links against the AWS stand-in in strict mode: opened on a fresh assumption of the
//! owner's role until revoked or expired, every use audited.

use app::{
    aws::{
        access::{assume_for, Target},
        Scope,
    },
    error::{AppError, AwsProblem},
    shares::ssr as shares,
};
use sqlx::PgPool;

use crate::support::standin::{assume_role_calls, connected, READ_ALL};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn share_links_open_until_revoked_or_expired_and_every_use_is_audited(pool: PgPool) {
    let (state, user, c) = connected(&pool, "sharer", READ_ALL).await;
    let key = "walk/one/two/three/report.csv";
    let target = Target::new(&state, user, c.id, "cv-mixed", key).unwrap();
    assert!(shares::create(&target, 0, false).await.is_err());
    assert!(shares::create(&target, 7 * 24 + 1, false).await.is_err());
    let link = shares::create(&target, 24, false).await.unwrap();
    let token = link.path.strip_prefix("/s/").unwrap();
    assert_eq!(token.len(), 64);
    // Only the hash is kept: the token itself is nowhere in the database.
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from share_links where token_hash = sha256($1::text::bytea)",
    )
    .bind(token)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 1);

    let url = shares::open(&state, token, None).await.unwrap();
    assert!(url.contains("X-Amz-Signature="), "{url}");
    assert!(url.contains("response-content-disposition="), "{url}");

    let links = shares::list(&pool, user).await.unwrap();
    assert_eq!(links.len(), 1);
    assert!(!links[0].revoked && !links[0].expired);
    let other = crate::support::standin::owner(&pool, "not-the-sharer@example.com").await;
    assert_eq!(
        shares::revoke(&pool, other, links[0].id).await.unwrap_err(),
        AppError::NotFound
    );
    shares::revoke(&pool, user, links[0].id).await.unwrap();
    assert_eq!(
        shares::open(&state, token, None).await.unwrap_err(),
        AppError::ShareLinkGone
    );

    let second = shares::create(&target, 1, false).await.unwrap();
    let second = second.path.strip_prefix("/s/").unwrap();
    sqlx::query(
        "update share_links set expires_at = now() - interval '1 second' where revoked_at is null",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        shares::open(&state, second, None).await.unwrap_err(),
        AppError::ShareLinkGone
    );
    assert_eq!(
        shares::open(&state, &"0".repeat(64), None)
            .await
            .unwrap_err(),
        AppError::NotFound
    );

    let outcomes: Vec<String> = sqlx::query_scalar(
        "select outcome from audit_events where action = 'share.open' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    // A token that matches no link is counted, not logged.
    assert_eq!(outcomes, ["ok", "revoked", "expired"]);

    // A link whose object went away says so, and is audited as such.
    let gone = Target::new(&state, user, c.id, "cv-mixed", "odd/not there").unwrap();
    assert_eq!(
        shares::create(&gone, 1, false).await.unwrap_err(),
        AppError::Aws(AwsProblem::ObjectNotFound)
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_disabled_owner_reaches_aws_no_more_and_their_links_are_gone(pool: PgPool) {
    let (state, user, c) = connected(&pool, "disabled-sharer", READ_ALL).await;
    let role = c.role_arn.clone().unwrap();
    let target = Target::new(
        &state,
        user,
        c.id,
        "cv-mixed",
        "walk/one/two/three/report.csv",
    )
    .unwrap();
    let link = shares::create(&target, 24, false).await.unwrap();
    let token = link.path.strip_prefix("/s/").unwrap();
    shares::open(&state, token, None).await.unwrap();

    sqlx::query("update users set disabled = true where id = $1")
        .bind(user)
        .execute(&pool)
        .await
        .unwrap();
    let before = assume_role_calls(&role).await;
    let opened = shares::open(&state, token, None).await.unwrap_err();
    assert_eq!(opened, AppError::ShareLinkGone);
    assert_eq!(opened.status(), axum::http::StatusCode::GONE);
    // Whatever asks for the connection, nothing is assumed for a disabled owner.
    let direct = assume_for(&state, user, c.id, &Scope::ListBuckets).await;
    assert_eq!(direct.unwrap_err(), AppError::AccountDisabled);
    assert_eq!(
        assume_role_calls(&role).await,
        before,
        "no AssumeRole reached AWS"
    );

    // Enabled again, the same link works again.
    sqlx::query("update users set disabled = false where id = $1")
        .bind(user)
        .execute(&pool)
        .await
        .unwrap();
    shares::open(&state, token, None).await.unwrap();
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_live_link_opens_after_junk_and_its_url_lives_five_minutes(pool: PgPool) {
    let (state, user, c) = connected(&pool, "short-lived", READ_ALL).await;
    assert_eq!(
        state.config.presign_seconds, 600,
        "the owner's own URLs: 10 minutes"
    );
    let target = Target::new(
        &state,
        user,
        c.id,
        "cv-mixed",
        "walk/one/two/three/report.csv",
    )
    .unwrap();
    let own = target.download_url(None).await.unwrap();
    assert!(own.contains("X-Amz-Expires=600"), "{own}");
    let link = shares::create(&target, 24, false).await.unwrap();
    let token = link.path.strip_prefix("/s/").unwrap();

    // Junk from one address spends its counter; the live link still opens from there.
    let address = Some("198.51.100.77");
    for i in 0..app::limits::SHARE_UNKNOWN_ADDRESS.max {
        let junk = format!("{i:064x}");
        assert_eq!(
            shares::open(&state, &junk, address).await.unwrap_err(),
            AppError::NotFound
        );
    }
    let junk = format!("{:064x}", 999_999);
    assert_eq!(
        shares::open(&state, &junk, address).await.unwrap_err(),
        AppError::RateLimited
    );
    let url = shares::open(&state, token, address).await.unwrap();
    assert!(
        url.contains("X-Amz-Expires=300"),
        "a link's URL: 5 minutes, {url}"
    );
}
