//! Connections against the AWS stand-in in strict mode, where trust policies, principals and
//! ExternalIds are enforced as AWS enforces them (scripts/test.sh starts and seeds it).

use std::net::SocketAddr;

use crate::support::{
    standin::{connection_with_role, env, owner, put_role, put_role_with_condition, state, verify},
    tcp_switch::Switch,
};
use app::{
    aws::{AwsGateway, Scope},
    connections::{parse_role_arn, ssr as connections, Connection, Status},
    error::{AppError, AwsProblem},
    state::AppState,
};
use sqlx::PgPool;

/// Where the stand-in listens, for a proxy in front of it.
fn standin_address() -> SocketAddr {
    env("AWS_ENDPOINT_URL")
        .trim_start_matches("http://")
        .parse()
        .unwrap()
}

/// Points connection `id` at the role `arn` and verifies it, as its owner would.
async fn verify_arn(state: &AppState, user: i64, id: i64, arn: &str) -> Connection {
    connections::set_role(&state.pool, user, id, &parse_role_arn(arn).unwrap())
        .await
        .unwrap();
    connections::verify::verify(state, user, id).await.unwrap()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn the_right_external_id_verifies(pool: PgPool) {
    let state = state(pool.clone(), crate::support::aws().await).await;
    let user = owner(&pool, "a@example.com").await;
    let c = connection_with_role(&state, user, "right-id", None, None).await;
    let c = verify(&state, user, &c).await;
    assert_eq!(
        (c.status, c.trust_warning, c.last_error),
        (Status::Verified, false, None)
    );
    assert!(c.last_verified_at.is_some());

    // Every assumption is in the audit log, those with a wrong ID and without one refused.
    let audit: Vec<(String, String, bool)> = sqlx::query_as(
        "select action, outcome, aws_request_id is not null from audit_events where action like 'connection.verify%' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        audit,
        [
            ("connection.verify".into(), "ok".into(), true),
            (
                "connection.verify_wrong_external_id".into(),
                "TrustDenied".into(),
                true
            ),
            (
                "connection.verify_without_external_id".into(),
                "TrustDenied".into(),
                true
            )
        ]
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_wrong_external_id_is_not_trusted(pool: PgPool) {
    let state = state(pool.clone(), crate::support::aws().await).await;
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
async fn a_trust_policy_that_does_not_pin_the_external_id_is_refused(pool: PgPool) {
    let state = state(pool.clone(), crate::support::aws().await).await;
    let user = owner(&pool, "a@example.com").await;
    // No condition at all: any ExternalId, or none, gets in.
    let c = connection_with_role(&state, user, "open-trust", Some(None), None).await;
    let c = verify(&state, user, &c).await;
    assert_eq!(
        (c.status, c.trust_warning, c.last_error),
        (Status::Failed, true, Some(AwsProblem::TrustTooOpen))
    );
    // Conditions that look like a pin but are not: AWS refuses these without an ExternalId
    // (so a check without one alone would pass them), yet admits any wrong one.
    for (role, condition) in [
        ("like-any", r#"{"StringLike": {"sts:ExternalId": "*"}}"#),
        ("present-any", r#"{"Null": {"sts:ExternalId": "false"}}"#),
        ("like-prefix", r#"{"StringLike": {"sts:ExternalId": "*?"}}"#),
    ] {
        let id = connections::create(&state.pool, &state.config, user, (role, false), None)
            .await
            .unwrap();
        let c = verify_arn(&state, user, id, &put_role_with_condition(role, condition)).await;
        assert_eq!(
            (c.status, c.last_error),
            (Status::Failed, Some(AwsProblem::TrustTooOpen)),
            "{condition}"
        );
        // Not usable: nothing is assumed for a connection that is not verified.
        let err = app::aws::access::assume_for(&state, user, id, &Scope::ListBuckets)
            .await
            .unwrap_err();
        assert_eq!(err, AppError::ConnectionNotVerified);
    }
    let refused: Vec<(String, String)> = sqlx::query_as(
        "select action, outcome from audit_events
         where action = 'connection.verify_wrong_external_id' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(refused.len(), 4);
    assert!(
        refused.iter().all(|(_, outcome)| outcome == "ok"),
        "{refused:?}"
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_role_changed_while_it_was_checked_is_not_marked_verified(pool: PgPool) {
    // Every AWS call crosses a slow network, so the check takes a while.
    let standin = standin_address();
    let slow = Switch::slow(standin, std::time::Duration::from_millis(300)).await;
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(format!("http://{}", slow.addr));
    let aws = AwsGateway::load(&crate::support::config(false), loader).await;
    let state = state(pool.clone(), aws).await;
    let user = owner(&pool, "a@example.com").await;
    let c = connection_with_role(&state, user, "checked-role", None, None).await;
    // The owner points the connection at another role while verification is under way: the
    // check was of the first role, so its result must not land on the second.
    let role = c.role_arn.clone().unwrap();
    let before = crate::support::standin::assume_role_calls(&role).await;
    let checking = tokio::spawn({
        let state = state.clone();
        async move { connections::verify::verify(&state, user, c.id).await }
    });
    while crate::support::standin::assume_role_calls(&role).await == before {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let other = parse_role_arn("arn:aws:iam::123456789012:role/switched-meanwhile").unwrap();
    connections::set_role(&pool, user, c.id, &other)
        .await
        .unwrap();
    assert!(
        !checking.is_finished(),
        "the change must land while the check runs"
    );
    checking.await.unwrap().unwrap();
    let now = connections::get(&pool, user, c.id).await.unwrap();
    assert_eq!(
        now.role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/switched-meanwhile")
    );
    assert_ne!(now.status, Status::Verified, "{now:?}");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn an_unknown_role_is_not_trusted(pool: PgPool) {
    let state = state(pool.clone(), crate::support::aws().await).await;
    let user = owner(&pool, "a@example.com").await;
    let id = connections::create(&state.pool, &state.config, user, ("ghost", false), None)
        .await
        .unwrap();
    for arn in [
        "arn:aws:iam::123456789012:role/no-such-role",
        "arn:aws:iam::999999999999:role/elsewhere",
    ] {
        let c = verify_arn(&state, user, id, arn).await;
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
    let standin = standin_address();
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
    let state = state(pool.clone(), crate::support::aws().await).await;
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
    let state = state(pool.clone(), crate::support::aws().await).await;
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
        "select count(*) from audit_events where actor_id = $1 and action like 'connection.verify%'",
    )
    .bind(b)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(assumptions, 0, "B never made Crossview assume A's role");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_endpoint_that_never_answers_frees_the_request(pool: PgPool) {
    // A tarpit: connections are accepted (by the kernel) and never answered.
    let tarpit = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = crate::support::config_with(
        false,
        &[("AWS_CONNECT_TIMEOUT_SECS", "1"), ("AWS_TIMEOUT_SECS", "1")],
    );
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(format!("http://{}", tarpit.local_addr().unwrap()));
    let aws = AwsGateway::load(&config, loader).await;
    let state = state(pool.clone(), aws).await;
    let user = owner(&pool, "a@example.com").await;
    let id = connections::create(&state.pool, &state.config, user, ("slow", false), None)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let c = verify_arn(
        &state,
        user,
        id,
        "arn:aws:iam::123456789012:role/behind-a-tarpit",
    )
    .await;
    let took = started.elapsed();
    assert_eq!(
        (c.status, c.last_error),
        (Status::Failed, Some(AwsProblem::TimedOut))
    );
    assert!(
        took < std::time::Duration::from_secs(5),
        "held for {took:?}"
    );
    assert!(AwsProblem::TimedOut
        .to_string()
        .starts_with("AWS did not answer in time"));
    // The defaults: 3 seconds to connect, 30 for a whole call.
    let defaults = crate::support::config(false);
    assert_eq!(
        (
            defaults.aws_connect_timeout.as_secs(),
            defaults.aws_timeout.as_secs()
        ),
        (3, 30)
    );
    drop(tarpit);
}
