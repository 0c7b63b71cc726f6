//! Drives the real router in-process: real Postgres, real sessions, real server functions.

#![allow(dead_code)] // each test file uses its own part of this

pub mod standin;
pub mod tcp_switch;

use std::sync::Arc;

use app::{aws::AwsGateway, config::Config, state::AppState, url::encode_component};
use axum::{
    body::{to_bytes, Body},
    http::{header, Request, Response, StatusCode},
    Router,
};
use leptos::config::LeptosOptions;
use sqlx::PgPool;
use tower::ServiceExt;

pub const HOST: &str = "crossview.test";
/// What a browser's navigation or plain form post accepts.
const HTML: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

/// The tests' `BOOTSTRAP_TOKEN`: a sign-up that gives it makes the deployment's first admin.
pub const BOOTSTRAP: &str = "the-tests-bootstrap-token";

pub fn config(cookie_secure: bool) -> Config {
    config_with(cookie_secure, &[])
}

/// The test configuration with some variables set as an operator would set them.
pub fn config_with(cookie_secure: bool, env: &[(&str, &str)]) -> Config {
    let secret = "k".repeat(64);
    Config::from_lookup(|key| match key {
        _ if env.iter().any(|(k, _)| *k == key) => env
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| (*v).to_owned()),
        "DATABASE_URL" => Some("postgres://unused".into()),
        "SESSION_SECRET" => Some(secret.clone()),
        "CROSSVIEW_ENV" => Some(
            if cookie_secure {
                "production"
            } else {
                "development"
            }
            .into(),
        ),
        "COOKIE_SECURE" => Some(cookie_secure.to_string()),
        // The stand-in serves buckets by path.
        "AWS_S3_FORCE_PATH_STYLE" => Some("true".into()),
        "BOOTSTRAP_TOKEN" => Some(BOOTSTRAP.into()),
        // Administrators sign in with a password alone unless a test asks for the default
        // policy (`two_step` does).
        "REQUIRE_MFA" => Some("off".into()),
        _ => None,
    })
    .unwrap()
}

pub async fn state(pool: PgPool, cookie_secure: bool) -> AppState {
    state_with(pool, config(cookie_secure)).await
}

/// Crossview's AWS side as the tests' configuration builds it (the stand-in, from the environment).
pub async fn aws() -> AwsGateway {
    AwsGateway::from_env(&config(false)).await
}

pub async fn state_with(pool: PgPool, config: Config) -> AppState {
    let aws = AwsGateway::from_env(&config).await;
    AppState::new(
        LeptosOptions::builder().output_name("crossview").build(),
        pool,
        aws,
        Arc::new(config),
    )
}

/// A browser stand-in: keeps the session cookie, sends what a browser's form post sends.
pub struct Browser {
    pub router: Router,
    /// The session cookie (`name=value`).
    pub cookie: Option<String>,
    /// The device cookie a sign-in leaves (`name=value`): this browser is trusted for it.
    pub device: Option<String>,
    /// Sent with every request, e.g. the `X-Forwarded-For` a proxy adds.
    pub headers: Vec<(String, String)>,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Browser {
    pub async fn new(pool: PgPool, cookie_secure: bool) -> Self {
        Self::on(state(pool, cookie_secure).await)
    }

    /// A browser on a server with this state.
    pub fn on(state: AppState) -> Self {
        Browser {
            router: server::router(state),
            cookie: None,
            device: None,
            headers: Vec::new(),
        }
    }

    /// A second browser on the same server (its own cookie jar).
    pub fn another(&self) -> Self {
        Browser {
            router: self.router.clone(),
            cookie: None,
            device: None,
            headers: self.headers.clone(),
        }
    }

    /// This browser as seen through a proxy that reports it at `address`.
    pub fn at_address(mut self, address: &str) -> Self {
        self.headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("x-forwarded-for"));
        self.headers
            .push(("x-forwarded-for".into(), address.into()));
        self
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self
            .request("GET", path)
            .header(header::ACCEPT, HTML)
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// A plain HTML form post, as a browser sends it before hydration.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = self
            .request("POST", path)
            .header(header::ACCEPT, HTML)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            // Exactly what Chromium sends for a same-origin form under no-referrer.
            .header(header::ORIGIN, "null")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// A request carrying this browser's cookie; the caller adds what it accepts.
    pub fn request(&self, method: &str, path: &str) -> axum::http::request::Builder {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, HOST);
        let cookies: Vec<&str> = [&self.cookie, &self.device]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if !cookies.is_empty() {
            req = req.header(header::COOKIE, cookies.join("; "));
        }
        for (name, value) in &self.headers {
            req = req.header(name, value);
        }
        req
    }

    pub async fn send(&mut self, req: Request<Body>) -> Page {
        let res: Response<Body> = self.router.clone().oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        for set in parts.headers.get_all(header::SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap_or_default();
            match pair.contains("crossview_device=") {
                true => self.device = Some(pair.to_owned()),
                false => self.cookie = Some(pair.to_owned()),
            }
        }
        let body = String::from_utf8_lossy(&to_bytes(body, usize::MAX).await.unwrap()).into_owned();
        Page {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// A server function called as the hydrated app calls it: JSON back, errors included.
    pub async fn call(&mut self, endpoint: &str, form_body: &str) -> Page {
        let req = self
            .request("POST", &format!("/api/{endpoint}"))
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(form_body.to_owned()))
            .unwrap();
        self.send(req).await
    }

    /// A server function that takes JSON, called as the hydrated app calls it.
    pub async fn call_json(&mut self, endpoint: &str, body: &serde_json::Value) -> Page {
        let req = self
            .request("POST", &format!("/api/{endpoint}"))
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/json")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    pub async fn sign_up(&mut self, email: &str, password: &str) -> Page {
        self.post_form("/api/sign_up", &[("email", email), ("password", password)])
            .await
    }

    /// Signs up as the deployment's first administrator, with the operator's bootstrap token.
    pub async fn sign_up_admin(&mut self, email: &str, password: &str) -> Page {
        let form = [
            ("email", email),
            ("password", password),
            ("bootstrap", BOOTSTRAP),
        ];
        let page = self.post_form("/api/sign_up", &form).await;
        assert_eq!(page.location(), "/", "the bootstrap sign-up of {email}");
        page
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        self.post_form(
            "/api/sign_in",
            &[("email", email), ("password", password), ("next", "")],
        )
        .await
    }
}

/// Peak resident memory of a process (Linux), in MiB.
pub fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024
}

/// The URL of the database `pool` is on, as a separate process reaches it.
pub async fn database_url(pool: &PgPool) -> String {
    let database: String = sqlx::query_scalar("select current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL: run scripts/test.sh");
    format!("{}/{database}", base.rsplit_once('/').unwrap().0)
}

/// The real server binary, on its own port, against this test's database; killed when dropped.
/// What it prints (its logs and any refusal to start) goes to a file, shown if it exits early.
pub struct Served {
    child: std::process::Child,
    pub addr: String,
    log: std::path::PathBuf,
    /// The log is this harness's own temporary file (removed on drop), not one a test asked for.
    own_log: bool,
    database_url: String,
    env: Vec<(String, String)>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.own_log {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

impl Served {
    /// Started and listening.
    pub async fn start(pool: &PgPool, env: &[(&str, &str)]) -> Served {
        Self::spawn(&database_url(pool).await, env)
            .listening()
            .await
    }

    /// Started and listening, its output (the logs) going to `log`.
    pub async fn logged(pool: &PgPool, env: &[(&str, &str)], log: &std::path::Path) -> Served {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Self::spawn_to(database_url(pool).await, env, log.to_owned(), false)
            .listening()
            .await
    }

    /// Started on `database_url`, not yet waited for.
    pub fn spawn(database_url: &str, env: &[(&str, &str)]) -> Served {
        static SPAWNED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SPAWNED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log =
            std::env::temp_dir().join(format!("crossview-served-{}-{n}.log", std::process::id()));
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Self::spawn_to(database_url.to_owned(), env, log, true)
    }

    fn spawn_to(
        database_url: String,
        env: Vec<(String, String)>,
        log: std::path::PathBuf,
        own_log: bool,
    ) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        Served {
            child: std::process::Command::new(env!("CARGO_BIN_EXE_server"))
                .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
                .env("DATABASE_URL", &database_url)
                .env("SESSION_SECRET", "f".repeat(64))
                .env("CROSSVIEW_ENV", "development")
                .env("COOKIE_SECURE", "false")
                .env("LEPTOS_SITE_ADDR", addr.clone())
                .env("LEPTOS_OUTPUT_NAME", "crossview")
                .env("RUST_LOG", "warn")
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap(),
            addr,
            log,
            own_log,
            database_url,
            env,
        }
    }

    /// Waits until the server accepts connections (at most 15 seconds). The port was free when
    /// it was picked, but another process may take it before the server binds it (an outgoing
    /// connection's ephemeral port): then the server starts again on another.
    pub async fn listening(mut self) -> Served {
        for attempt in 0..3 {
            for _ in 0..300 {
                if tokio::net::TcpStream::connect(&self.addr).await.is_ok() {
                    return self;
                }
                if let Ok(Some(status)) = self.child.try_wait() {
                    let printed = std::fs::read_to_string(&self.log).unwrap_or_default();
                    if printed.contains("Address already in use") && attempt < 2 {
                        break;
                    }
                    panic!("the server on {} exited ({status}):\n{printed}", self.addr);
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            if self.child.try_wait().ok().flatten().is_none() {
                panic!("the server did not start on {}", self.addr);
            }
            let again = Self::spawn_to(
                self.database_url.clone(),
                std::mem::take(&mut self.env),
                self.log.clone(),
                self.own_log,
            );
            self.own_log = false; // the new one removes it
            self = again;
        }
        unreachable!("three attempts")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Signs `email` in (with the tests' password); the session cookie (`name=value`).
    pub async fn sign_in(&self, email: &str) -> String {
        let body = format!("email={email}&password=a+long+enough+passphrase&next=");
        let url = format!("http://{}/api/sign_in", self.addr);
        let headers = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
            ("Sec-Fetch-Site", "same-origin"),
        ];
        let answer = standin::http_with_body("POST", &url, &headers, body.as_bytes()).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let session = answer
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
            .find(|(_, value)| value.contains("crossview_session="));
        let (_, cookie) = session.expect("a session cookie");
        cookie.split(';').next().unwrap().to_owned()
    }
}

/// A share link's rules: `hours` long, telling the owner when opened if `notify`, nothing more.
pub fn share_for(hours: u32, notify: bool) -> app::shares::ShareRules {
    app::shares::ShareRules {
        hours: Some(hours),
        notify,
        ..Default::default()
    }
}
