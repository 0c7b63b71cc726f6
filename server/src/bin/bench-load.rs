//! The benchmark's load and its floor, for `scripts/bench.sh --compare` only.
//!
//! `bench-load floor --endpoint URL --role-arn ARN --external-id ID --bucket B` measures the work
//! Crossview's design cannot avoid per folder page, with nothing of Crossview's around it: one
//! STS AssumeRole with the ExternalId and one S3 ListObjectsV2 of up to 1,000 keys on the
//! temporary credentials (a client built for them, as every page does), both through the AWS
//! SDK with their answers decoded, against the canned stand-in (`aws-canned`).
//!
//! `bench-load pages --url URL [--cookie C]…` loads a page again and again, one user per cookie
//! (each with a client address of its own, as a proxy in front would report it).
//!
//! Both run `--users` loops at once for `--seconds` on one thread (the script pins it to a core
//! with `taskset`) and print one JSON line: calls, calls per second, wall time p50/p99 in ms,
//! and this process's CPU ms per call.

use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use axum::body::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};

struct Options {
    mode: String,
    users: usize,
    seconds: f64,
    endpoint: String,
    role_arn: String,
    external_id: String,
    bucket: String,
    url: String,
    cookies: Vec<String>,
    headers: Vec<(String, String)>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let options = options();
    let deadline = Instant::now() + Duration::from_secs_f64(options.seconds);
    let users = match options.mode.as_str() {
        "floor" => options.users,
        _ => options.cookies.len().max(options.users),
    };
    let cpu_before = cpu_ms();
    let started = Instant::now();
    let loops: Vec<_> = (0..users)
        .map(|user| {
            let run = Run {
                options: &options,
                user,
            };
            async move {
                let mut times = Vec::new();
                while Instant::now() < deadline {
                    let began = Instant::now();
                    if let Err(err) = run.once().await {
                        exit(&err);
                    }
                    times.push(began.elapsed().as_secs_f64() * 1000.0);
                }
                times
            }
        })
        .collect();
    let mut times: Vec<f64> = futures::future::join_all(loops).await.concat();
    let (wall, cpu) = (started.elapsed().as_secs_f64(), cpu_ms() - cpu_before);
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{{\"mode\":\"{}\",\"users\":{users},\"calls\":{},\"per_second\":{:.1},\"p50_ms\":{:.3},\
         \"p99_ms\":{:.3},\"cpu_ms_per_call\":{:.3}}}",
        options.mode,
        times.len(),
        times.len() as f64 / wall,
        at(0.5),
        at(0.99),
        cpu / times.len() as f64,
    );
}

struct Run<'a> {
    options: &'a Options,
    user: usize,
}

impl Run<'_> {
    async fn once(&self) -> Result<(), String> {
        match self.options.mode.as_str() {
            "floor" => self.floor().await,
            _ => self.page().await,
        }
    }

    async fn floor(&self) -> Result<(), String> {
        let o = self.options;
        let (base, sts) = base_config(&o.endpoint).await;
        let assumed = sts
            .assume_role()
            .role_arn(&o.role_arn)
            .role_session_name(format!("crossview-user-{}", self.user))
            .external_id(&o.external_id)
            .duration_seconds(900)
            .send()
            .await
            .map_err(|e| format!("AssumeRole: {e:?}"))?;
        let creds = assumed.credentials.ok_or("AssumeRole: no credentials")?;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(base)
                .credentials_provider(aws_sdk_s3::config::Credentials::new(
                    creds.access_key_id,
                    creds.secret_access_key,
                    Some(creds.session_token),
                    None,
                    "bench-floor",
                ))
                .force_path_style(true)
                .build(),
        );
        let listed = s3
            .list_objects_v2()
            .bucket(&o.bucket)
            .delimiter("/")
            .max_keys(1000)
            .send()
            .await
            .map_err(|e| format!("ListObjectsV2: {e:?}"))?;
        match listed.contents().len() {
            0 => Err("ListObjectsV2: no keys (is the stand-in canned?)".into()),
            _ => Ok(()),
        }
    }

    async fn page(&self) -> Result<(), String> {
        let o = self.options;
        let mut request = http::Request::get(&o.url).header(
            "x-forwarded-for",
            format!("10.99.{}.{}", self.user / 250, self.user % 250 + 1),
        );
        if let Some(cookie) = o.cookies.get(self.user) {
            request = request.header(http::header::COOKIE, cookie);
        }
        for (name, value) in &o.headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let response = client()
            .request(request)
            .await
            .map_err(|e| format!("GET {}: {e}", o.url))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        let body = body.to_bytes();
        match status.is_success() && !body.is_empty() {
            true => Ok(()),
            false => Err(format!(
                "GET {}: {status}: {}",
                o.url,
                String::from_utf8_lossy(&body[body.len().saturating_sub(1500)..])
            )),
        }
    }
}

/// The base configuration and the STS client on it, made once, as Crossview makes its own
/// (credentials from the environment): only the per-page work is in the floor.
async fn base_config(endpoint: &str) -> &'static (aws_config::SdkConfig, aws_sdk_sts::Client) {
    static BASE: tokio::sync::OnceCell<(aws_config::SdkConfig, aws_sdk_sts::Client)> =
        tokio::sync::OnceCell::const_new();
    BASE.get_or_init(|| async {
        let base = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .load()
            .await;
        let sts = aws_sdk_sts::Client::new(&base);
        (base, sts)
    })
    .await
}

/// One keep-alive client for every loop, as a browser fleet would look to the server.
fn client() -> &'static Client<HttpConnector, Empty<Bytes>> {
    static CLIENT: std::sync::OnceLock<Client<HttpConnector, Empty<Bytes>>> =
        std::sync::OnceLock::new();
    CLIENT.get_or_init(|| Client::builder(TokioExecutor::new()).build_http())
}

/// This process's CPU time so far (user + system), in ms, from `/proc/self/stat`.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the state, field 3;
    // utime and stime are fields 14 and 15, in clock ticks of 1/100 s.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: f64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<f64>().ok())
        .sum();
    ticks * 10.0
}

fn options() -> Options {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        mode: args.next().unwrap_or_default(),
        users: 1,
        seconds: 10.0,
        endpoint: String::new(),
        role_arn: String::new(),
        external_id: String::new(),
        bucket: String::new(),
        url: String::new(),
        cookies: Vec::new(),
        headers: Vec::new(),
    };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| exit(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--users" => options.users = value.parse().unwrap_or_else(|_| exit("--users N")),
            "--seconds" => options.seconds = value.parse().unwrap_or_else(|_| exit("--seconds S")),
            "--endpoint" => options.endpoint = value,
            "--role-arn" => options.role_arn = value,
            "--external-id" => options.external_id = value,
            "--bucket" => options.bucket = value,
            "--url" => options.url = value,
            "--cookie" => options.cookies.push(value),
            "--header" => match value.split_once(':') {
                Some((name, v)) => options.headers.push((name.into(), v.trim().into())),
                None => exit("--header 'Name: value'"),
            },
            _ => exit(&format!("unknown flag {flag}")),
        }
    }
    match options.mode.as_str() {
        "floor" if !options.endpoint.is_empty() && !options.bucket.is_empty() => options,
        "pages" if !options.url.is_empty() => options,
        _ => exit(
            "usage: bench-load floor --endpoint URL --role-arn ARN --external-id ID --bucket B \
             | pages --url URL [--cookie C]… [--header 'N: v']…  [--users N] [--seconds S]",
        ),
    }
}

fn exit(message: &str) -> ! {
    eprintln!("bench-load: {message}");
    std::process::exit(2)
}
