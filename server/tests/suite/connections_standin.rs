//! Connections against the AWS stand-in in strict mode, where trust policies, principals and
//! ExternalIds are enforced as AWS enforces them (scripts/test.sh starts and seeds it).

use std::net::SocketAddr;

use crate::support::{
    standin::{connection_with_role, env, owner, put_role, state, verify},
    tcp_switch::Switch,
};
use app::{
    aws::{AwsGateway, Scope},
    connections::{parse_role_arn, ssr as connections, Status},
    error::{AppError, AwsProblem},
};
use sqlx::PgPool;

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn the_right_external_id_verifies(pool: PgPool) {
    let state = state(pool.clone(), AwsGateway::from_env(true).await).await;
    let user = owner(&pool, "a@example.com").await;
    let c = connection_with_role(&state, user, "right-id", None, None).await;
    let c = verify(&state, user, &c).await;
    assert_eq!(
        (c.status, c.trust_warning, c.last_error),
        (Status::Verified, false, None)
    );
    assert!(c.last_verified_at.is_some());

    // Both assumptions are in the audit log, the one without the ID refused.
    let audit: Vec<(String, String, bool)> = sqlx::query_as(
        "select action, outcome, aws_request_id is not null from audit_events where action like 'verify%' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        audit,
        [
            ("verify".into(), "ok".into(), true),
            (
                "verify_without_external_id".into(),
                "TrustDenied".into(),
                true
            )
        ]
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_wrong_external_id_is_not_trusted(pool: PgPool) {
    let state = state(pool.clone(), AwsGateway::from_env(true).await).await;
    let user = owner(&pool, "a@example.com").await;
    let c = connection_with_role(
        &state,
        user,
        "wrong-id",
        Some(Some("SomebodyElsesExternalId")),
        None,
    )
    .await;
    let c = verify(&state, user, &c).await;
    assert_eq!(
        (c.status, c.last_error),
        (Status::Failed, Some(AwsProblem::TrustDenied))
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_role_without_the_condition_verifies_with_a_warning(pool: PgPool) {
    let state = state(pool.clone(), AwsGateway::from_env(true).await).await;
    let user = owner(&pool, "a@example.com").await;
    let c = connection_with_role(&state, user, "open-trust", Some(None), None).await;
    let c = verify(&state, user, &c).await;
    assert_eq!((c.status, c.trust_warning), (Status::Verified, true));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn an_unknown_role_is_not_trusted(pool: PgPool) {
    let state = state(pool.clone(), AwsGateway::from_env(true).await).await;
    let user = owner(&pool, "a@example.com").await;
    let id = connections::create(&state.pool, &state.config, user, "ghost", None)
        .await
        .unwrap();
    for arn in [
        "arn:aws:iam::123456789012:role/no-such-role",
        "arn:aws:iam::999999999999:role/elsewhere",
    ] {
        connections::set_role(&pool, user, id, &parse_role_arn(arn).unwrap())
            .await
            .unwrap();
        let c = connections::verify::verify(&state, user, id).await.unwrap();
        assert_eq!(
            (c.status, c.last_error),
            (Status::Failed, Some(AwsProblem::TrustDenied)),
            "{arn}"
        );
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn aws_unreachable_then_recovered(pool: PgPool) {
    let standin: SocketAddr = env("AWS_ENDPOINT_URL")
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let switch = Switch::start(standin).await;
    let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(format!("http://{}", switch.addr))
        .load()
        .await;
    let aws = AwsGateway::new(base.clone(), aws_sdk_sts::Client::new(&base), true);
    let state = state(pool.clone(), aws).await;
    let user = owner(&pool, "a@example.com").await;
    let c = connection_with_role(&state, user, "flaky-network", None, None).await;

    switch.off().await;
    let down = verify(&state, user, &c).await;
    assert_eq!(
        (down.status, down.last_error),
        (Status::Failed, Some(AwsProblem::Unreachable))
    );

    switch.on().await;
    let up = verify(&state, user, &c).await;
    assert_eq!((up.status, up.last_error), (Status::Verified, None));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn nothing_is_cached_a_changed_trust_policy_bites_at_once(pool: PgPool) {
    let state = state(pool.clone(), AwsGateway::from_env(true).await).await;
    let user = owner(&pool, "a@example.com").await;
    let c = connection_with_role(&state, user, "changes-mind", None, None).await;
    assert_eq!(verify(&state, user, &c).await.status, Status::Verified);
    app::aws::access::assume_for(&state, user, c.id, &Scope::ListBuckets)
        .await
        .unwrap();

    put_role("changes-mind", Some("NowSomeOtherExternalId"), None);
    let err = app::aws::access::assume_for(&state, user, c.id, &Scope::ListBuckets)
        .await
        .unwrap_err();
    assert_eq!(err, AppError::Aws(AwsProblem::TrustDenied));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn another_user_cannot_verify_or_use_a_connection(pool: PgPool) {
    let state = state(pool.clone(), AwsGateway::from_env(true).await).await;
    let a = owner(&pool, "a@example.com").await;
    let b = owner(&pool, "b@example.com").await;
    let c = connection_with_role(&state, a, "owned-by-a", None, None).await;
    assert_eq!(
        connections::verify::verify(&state, b, c.id)
            .await
            .unwrap_err(),
        AppError::NotFound
    );
    assert_eq!(verify(&state, a, &c).await.status, Status::Verified);
    let err = app::aws::access::assume_for(&state, b, c.id, &Scope::ListBuckets)
        .await
        .unwrap_err();
    assert_eq!(err, AppError::NotFound);
    let assumptions: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where actor_id = $1 and action like 'verify%'",
    )
    .bind(b)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(assumptions, 0, "B never made Crossview assume A's role");
}
