//! The strict AWS stand-in from a test's side: its settings, changing its roles as their owner
//! would in IAM, and a Crossview state whose connections point at it.

use std::{sync::Arc, time::Duration};

use app::{
    aws::AwsGateway,
    connections::{parse_role_arn, ssr as connections, Connection},
    state::AppState,
};
use sqlx::PgPool;

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run scripts/test.sh"))
}

/// Creates or updates a role in the stand-in (trusting Crossview under `external_id`, or with no
/// condition), with `permissions` as its policy when given; returns its ARN.
pub fn put_role(name: &str, external_id: Option<&str>, permissions: Option<&str>) -> String {
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/aws_world.py"
    ))
    .args(["role", "--name", name]);
    if let Some(id) = external_id {
        cmd.args(["--external-id", id]);
    }
    if let Some(policy) = permissions {
        cmd.args(["--permissions", policy]);
    }
    let out = cmd.output().expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// How many AssumeRole calls for `role_arn` have reached the stand-in, allowed or not.
pub async fn assume_role_calls(role_arn: &str) -> u64 {
    let url = format!("{}/_standin/assume-role-calls", env("AWS_ENDPOINT_URL"));
    let addr = url.trim_start_matches("http://");
    let (host, path) = addr.split_once('/').unwrap();
    let body = http_get(host, &format!("/{path}")).await;
    let counts: serde_json::Value = serde_json::from_str(&body).unwrap();
    counts[role_arn].as_u64().unwrap_or(0)
}

/// A bare HTTP/1.0 GET: the stand-in's own test endpoint needs no client library.
async fn http_get(host: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (_, body) = response.split_once("\r\n\r\n").unwrap();
    body.to_owned()
}

pub async fn state(pool: PgPool, aws: AwsGateway) -> AppState {
    let mut config = super::config(false);
    // Verification retries denied assumptions while a role propagates; the stand-in needs none.
    config.verify_propagation = Duration::ZERO;
    AppState {
        config: Arc::new(config),
        aws,
        ..super::state(pool, false).await
    }
}

pub async fn owner(pool: &PgPool, email: &str) -> i64 {
    sqlx::query_scalar("insert into users (email, password_hash) values ($1, 'x') returning id")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A new connection whose role (named after the test) trusts `trusted_id` (`None` → the
/// connection's own ExternalId) and has `permissions`.
pub async fn connection_with_role(
    state: &AppState,
    user: i64,
    role: &str,
    trusted_id: Option<Option<&str>>,
    permissions: Option<&str>,
) -> Connection {
    let id = connections::create(&state.pool, &state.config, user, role, None)
        .await
        .unwrap();
    let own = connections::get(&state.pool, user, id)
        .await
        .unwrap()
        .external_id;
    let arn = put_role(role, trusted_id.unwrap_or(Some(&own)), permissions);
    connections::set_role(&state.pool, user, id, &parse_role_arn(&arn).unwrap())
        .await
        .unwrap();
    connections::get(&state.pool, user, id).await.unwrap()
}

pub async fn verify(state: &AppState, user: i64, c: &Connection) -> Connection {
    connections::verify::verify(state, user, c.id)
        .await
        .unwrap()
}
