//! Connections against the AWS stand-in in strict mode, where trust policies, principals and
//! ExternalIds are enforced as AWS enforces them (scripts/test.sh starts and seeds it).

mod support;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use app::{
    aws::{AwsGateway, Scope},
    connections::{parse_role_arn, ssr as connections, Connection, Status},
    error::{AppError, AwsProblem},
    state::AppState,
};
use sqlx::PgPool;
use support::tcp_switch::Switch;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run scripts/test.sh"))
}

/// Creates or updates a role in the stand-in, as its owner would in IAM; returns its ARN.
fn put_role(name: &str, external_id: Option<&str>) -> String {
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/aws_world.py"
    ))
    .args(["role", "--name", name]);
    if let Some(id) = external_id {
        cmd.args(["--external-id", id]);
    }
    let out = cmd.output().expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn state(pool: PgPool, aws: AwsGateway) -> AppState {
    let mut config = support::config(false);
    // Verification retries denied assumptions while a role propagates; the stand-in needs none.
    config.verify_propagation = Duration::ZERO;
    AppState {
        config: Arc::new(config),
        aws,
        ..support::state(pool, false).await
    }
}

async fn owner(pool: &PgPool, email: &str) -> i64 {
    sqlx::query_scalar("insert into users (email, password_hash) values ($1, 'x') returning id")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A new connection whose role (named after the test) trusts `trusted_id`; `None` → the
/// connection's own ExternalId.
async fn connection_with_role(
    state: &AppState,
    user: i64,
    role: &str,
    trusted_id: Option<Option<&str>>,
) -> Connection {
    let id = connections::create(&state.pool, &state.config, user, role, None)
        .await
        .unwrap();
    let own = connections::get(&state.pool, user, id)
        .await
        .unwrap()
        .external_id;
    let arn = put_role(role, trusted_id.unwrap_or(Some(&own)));
    connections::set_role(&state.pool, user, id, &parse_role_arn(&arn).unwrap())
        .await
        .unwrap();
    connections::get(&state.pool, user, id).await.unwrap()
}

async fn verify(state: &AppState, user: i64, c: &Connection) -> Connection {
    connections::verify::verify(state, user, c.id)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "app::state::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn the_right_external_id_verifies(pool: PgPool) {
    let state = state(pool.clone(), AwsGateway::from_env(true).await).await;
    let user = owner(&pool, "a@example.com").await;
    let c = connection_with_role(&state, user, "right-id", None).await;
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

#[sqlx::test(migrator = "app::state::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_wrong_external_id_is_not_trusted(pool: PgPool) {
    let state = state(pool.clone(), AwsGateway::from_env(true).await).await;
    let user = owner(&pool, "a@example.com").await;
    let c = connection_with_role(
        &state,
        user,
        "wrong-id",
        Some(Some("SomebodyElsesExternalId")),
    )
    .await;
    let c = verify(&state, user, &c).await;
    assert_eq!(
        (c.status, c.last_error),
        (Status::Failed, Some(AwsProblem::TrustDenied))
    );
}

#[sqlx::test(migrator = "app::state::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_role_without_the_condition_verifies_with_a_warning(pool: PgPool) {
    let state = state(pool.clone(), AwsGateway::from_env(true).await).await;
    let user = owner(&pool, "a@example.com").await;
    let c = connection_with_role(&state, user, "open-trust", Some(None)).await;
    let c = verify(&state, user, &c).await;
    assert_eq!((c.status, c.trust_warning), (Status::Verified, true));
}

#[sqlx::test(migrator = "app::state::MIGRATOR")]
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

#[sqlx::test(migrator = "app::state::MIGRATOR")]
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
    let c = connection_with_role(&state, user, "flaky-network", None).await;

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

#[sqlx::test(migrator = "app::state::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn nothing_is_cached_a_changed_trust_policy_bites_at_once(pool: PgPool) {
    let state = state(pool.clone(), AwsGateway::from_env(true).await).await;
    let user = owner(&pool, "a@example.com").await;
    let c = connection_with_role(&state, user, "changes-mind", None).await;
    assert_eq!(verify(&state, user, &c).await.status, Status::Verified);
    connections::assume_for(&state, user, c.id, &Scope::ListBuckets)
        .await
        .unwrap();

    put_role("changes-mind", Some("NowSomeOtherExternalId"));
    let err = connections::assume_for(&state, user, c.id, &Scope::ListBuckets)
        .await
        .unwrap_err();
    assert_eq!(err, AppError::Aws(AwsProblem::TrustDenied));
}

#[sqlx::test(migrator = "app::state::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn another_user_cannot_verify_or_use_a_connection(pool: PgPool) {
    let state = state(pool.clone(), AwsGateway::from_env(true).await).await;
    let a = owner(&pool, "a@example.com").await;
    let b = owner(&pool, "b@example.com").await;
    let c = connection_with_role(&state, a, "owned-by-a", None).await;
    assert_eq!(
        connections::verify::verify(&state, b, c.id)
            .await
            .unwrap_err(),
        AppError::NotFound
    );
    assert_eq!(verify(&state, a, &c).await.status, Status::Verified);
    let err = connections::assume_for(&state, b, c.id, &Scope::ListBuckets)
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
