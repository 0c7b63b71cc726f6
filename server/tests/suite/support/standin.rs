//! The strict AWS stand-in from a test's side: its settings, changing its roles as their owner
//! would in IAM, and a Crossview state whose connections point at it.

use std::{sync::Arc, time::Duration};

use app::{
    aws::AwsGateway,
    connections::{parse_role_arn, ssr as connections, Connection},
    error::AppError,
    state::AppState,
    url::decode,
};
use sqlx::PgPool;

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run scripts/test.sh"))
}

/// Creates or updates a role in the stand-in (trusting Crossview under `external_id`, or with no
/// condition), with `permissions` as its policy when given; returns its ARN.
pub fn put_role(name: &str, external_id: Option<&str>, permissions: Option<&str>) -> String {
    let mut args = vec!["role", "--name", name];
    if let Some(id) = external_id {
        args.extend(["--external-id", id]);
    }
    if let Some(policy) = permissions {
        args.extend(["--permissions", policy]);
    }
    world(&args).trim().to_owned()
}

/// Creates or updates a role trusting Crossview under this `Condition` block (JSON), verbatim.
pub fn put_role_with_condition(name: &str, condition: &str) -> String {
    world(&["role", "--name", name, "--condition", condition])
        .trim()
        .to_owned()
}

/// Runs `scripts/aws_world.py` with `args` (the stand-in's admin key comes from the environment);
/// returns what it printed.
fn world(args: &[&str]) -> String {
    let out = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scripts/aws_world.py"
        ))
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Writes an object with the stand-in's admin key, as its owner would.
pub fn put_object(bucket: &str, key: &str) {
    world(&["put", "--bucket", bucket, "--key", key]);
}

/// Writes an object with this body, in this storage class (`GLACIER`: S3 will not return it
/// until it is restored; `""`: the default).
pub fn put_object_as(bucket: &str, key: &str, body: &str, class: &str) {
    let mut args = vec!["put", "--bucket", bucket, "--key", key, "--body", body];
    if !class.is_empty() {
        args.extend(["--storage-class", class]);
    }
    world(&args);
}

/// (Re)creates `bucket` with one object, a CORS rule for each of `cors` (none: no CORS at all),
/// and with `kms` default encryption by a new KMS key, whose ARN it returns.
pub fn make_bucket(bucket: &str, cors: &[&str], kms: bool) -> Option<String> {
    let mut args = vec!["bucket", "--name", bucket];
    for origin in cors {
        args.extend(["--cors", origin]);
    }
    if kms {
        args.push("--kms");
    }
    Some(world(&args).trim().to_owned()).filter(|key| !key.is_empty())
}

/// (Re)creates `bucket` with one object and a CORS rule for `origin`, where the organisation's
/// resource control policy refuses a presigned URL older than `age_ms` (`s3:signatureAge`).
pub fn make_capped_bucket(bucket: &str, origin: &str, age_ms: u32) {
    let age = age_ms.to_string();
    world(&[
        "bucket",
        "--name",
        bucket,
        "--cors",
        origin,
        "--signature-age-ms",
        &age,
    ]);
}

/// How many multipart uploads are still open under `prefix` (the bucket owner's view).
pub fn open_uploads(bucket: &str, prefix: &str) -> u64 {
    world(&["uploads", "--bucket", bucket, "--prefix", prefix])
        .trim()
        .parse()
        .unwrap()
}

/// Every key under `prefix`, as the bucket's owner sees them (folder markers included).
pub fn keys_under(bucket: &str, prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> = world(&["keys", "--bucket", bucket, "--prefix", prefix])
        .lines()
        .map(str::to_owned)
        .collect();
    keys.sort();
    keys
}

/// How many AssumeRole calls for `role_arn` have reached the stand-in, allowed or not.
pub async fn assume_role_calls(role_arn: &str) -> u64 {
    assume_role_seen(role_arn).await["calls"]
        .as_u64()
        .unwrap_or(0)
}

/// What the stand-in saw of `role_arn`'s AssumeRole calls: `calls`, and the last one's session
/// `policy` (JSON text) and `duration` (seconds, as sent).
pub async fn assume_role_seen(role_arn: &str) -> serde_json::Value {
    let url = format!("{}/_standin/assume-role-calls", env("AWS_ENDPOINT_URL"));
    let answer = http("GET", &url, &[]).await;
    let seen: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    seen[role_arn].clone()
}

/// What a bare HTTP request got back.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A bare HTTP/1.0 request to `url` (http only, sent exactly as given), as a browser sends a
/// presigned URL: the stand-in and its test endpoint need no client library.
pub async fn http(method: &str, url: &str, headers: &[(&str, &str)]) -> Answer {
    http_with_body(method, url, headers, &[]).await
}

/// [`http`] with a body (and its `Content-Length`), as a browser sends a file.
pub async fn http_with_body(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut request = format!("{method} {target} HTTP/1.0\r\nHost: {host}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
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
    let id = connections::create(&state.pool, &state.config, user, (role, false), None)
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

/// Lists and reads every seeded bucket.
pub const READ_ALL: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["s3:ListAllMyBuckets","s3:ListBucket","s3:GetObject","s3:GetObjectTagging"],"Resource":"*"}]}"#;

/// What a least-privilege role for one bucket looks like: no s3:ListAllMyBuckets.
pub const ONE_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::cv-mixed"},
  {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::cv-mixed/*"}]}"#;

/// Reads and writes every bucket's objects (uploads, deletes, copies).
pub const READ_WRITE: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["s3:ListAllMyBuckets","s3:ListBucket","s3:GetObject","s3:GetObjectTagging",
    "s3:PutObject","s3:PutObjectTagging","s3:DeleteObject","s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts","s3:ListBucketMultipartUploads","s3:GetLifecycleConfiguration"],
    "Resource":"*"}]}"#;

/// Reads and restores versions.
pub const VERSIONS: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["s3:ListBucket","s3:ListBucketVersions","s3:GetObject","s3:GetObjectVersion",
    "s3:PutObject"],"Resource":"*"}]}"#;

/// Lists, but may not read objects.
pub const LIST_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["s3:ListAllMyBuckets","s3:ListBucket"],"Resource":"*"}]}"#;

/// A verified connection for a new user, its role named `role` with `permissions`.
pub async fn connected(
    pool: &PgPool,
    role: &str,
    permissions: &str,
) -> (AppState, i64, Connection) {
    let state = state(pool.clone(), crate::support::aws().await).await;
    let user = owner(pool, &format!("{role}@example.com")).await;
    let c = connection_with_role(&state, user, role, None, Some(permissions)).await;
    let c = verify(&state, user, &c).await;
    (state, user, c)
}

/// How many AssumeRole calls for `role` reached the stand-in while `call` ran (which must succeed).
pub async fn assumptions<T, F>(role: &str, call: F) -> u64
where
    F: std::future::Future<Output = Result<T, AppError>>,
{
    let before = assume_role_calls(role).await;
    call.await.map_err(|e| format!("{e:?}")).unwrap();
    assume_role_calls(role).await - before
}

/// Signs a browser up and gives it a verified connection with `permissions`.
pub async fn browser_with_connection(
    pool: &PgPool,
    role: &str,
    permissions: &str,
) -> (super::Browser, Connection) {
    let mut browser = super::Browser::new(pool.clone(), false).await;
    let email = format!("{role}@example.com");
    browser.sign_up(&email, "a long enough passphrase").await;
    let user: i64 = sqlx::query_scalar("select id from users where email = $1")
        .bind(&email)
        .fetch_one(pool)
        .await
        .unwrap();
    let state = state(pool.clone(), crate::support::aws().await).await;
    let c = connection_with_role(&state, user, role, None, Some(permissions)).await;
    let c = verify(&state, user, &c).await;
    (browser, c)
}

/// The session policy the stand-in last saw for `role`, parsed.
pub async fn last_policy(role: &str) -> serde_json::Value {
    let seen = assume_role_seen(role).await;
    serde_json::from_str(seen["policy"].as_str().unwrap()).unwrap()
}

/// The query parameters of a URL, decoded.
pub fn query(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A folder of its own in `cv-work` for each test run.
pub fn folder(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{nanos}/")
}

/// How many audit rows name `action`.
pub async fn audited(pool: &PgPool, action: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_events where action = $1")
        .bind(action)
        .fetch_one(pool)
        .await
        .unwrap()
}
