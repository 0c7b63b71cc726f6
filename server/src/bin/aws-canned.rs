//! A canned AWS stand-in, for benchmarks only (`scripts/bench.sh --compare`).
//!
//! It forwards every request to the strict stand-in (`--upstream`) until it is switched on
//! (`PUT /__canned`), so that a benchmark's world and connection are set up and verified for
//! real. Once on, it answers the two calls a folder page cannot avoid, STS AssumeRole and S3
//! ListObjectsV2, with fixed realistic bodies built once, at near-zero CPU: what the benchmark
//! then measures is Crossview's work, not a Python server's. Everything else is still forwarded.
//! `GET /__canned` reports how many calls it answered.
//!
//! Usage: `aws-canned --upstream http://127.0.0.1:5000 [--listen 127.0.0.1:0]`; it prints
//! `listening on <port>` once it accepts connections.

use std::{
    collections::HashMap,
    fmt::Write as _,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use axum::{
    body::{to_bytes, Body, Bytes},
    extract::{Request, State},
    http::{header, uri::PathAndQuery, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    Router,
};
use http_body_util::Full;
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};

/// Keys in a canned folder listing: the most one ListObjectsV2 call returns.
const KEYS: usize = 1000;
/// Keys under any prefix listed without a delimiter (a search's walk): pages of [`KEYS`], made
/// as they are asked for.
const WALK_KEYS: usize = 1_000_000;
/// Far above any request the benchmark's set-up sends (policies, small objects).
const MOST_BODY: usize = 16 << 20;

struct Canned {
    on: AtomicBool,
    answered: AtomicU64,
    upstream: Uri,
    client: Client<HttpConnector, Full<Bytes>>,
    assume: Bytes,
    /// Listings by (bucket, prefix, max keys), built on first use.
    listings: Mutex<HashMap<(String, String, usize), Bytes>>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (mut upstream, mut listen) = (None, "127.0.0.1:0".to_owned());
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--upstream", Some(url)) => upstream = Some(url),
            ("--listen", Some(addr)) => listen = addr,
            _ => exit("usage: aws-canned --upstream URL [--listen ADDR]"),
        }
    }
    let upstream: Uri = match upstream.map(|url| url.parse()) {
        Some(Ok(uri)) => uri,
        _ => exit("--upstream needs the stand-in's URL, such as http://127.0.0.1:5000"),
    };
    let canned = Arc::new(Canned {
        on: AtomicBool::new(false),
        answered: AtomicU64::new(0),
        upstream,
        client: Client::builder(TokioExecutor::new()).build_http(),
        assume: assume_role_body(),
        listings: Mutex::default(),
    });
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(listener) => listener,
        Err(err) => exit(&format!("cannot listen on {listen}: {err}")),
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    println!("listening on {port}");
    let app = Router::new().fallback(answer).with_state(canned);
    if let Err(err) = axum::serve(listener, app).await {
        exit(&err.to_string());
    }
}

fn exit(message: &str) -> ! {
    eprintln!("aws-canned: {message}");
    std::process::exit(2)
}

async fn answer(State(canned): State<Arc<Canned>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MOST_BODY).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let query = parts.uri.query().unwrap_or_default();
    if parts.uri.path() == "/__canned" {
        if parts.method == Method::PUT {
            canned.on.store(true, Ordering::Relaxed);
        }
        let answered = canned.answered.load(Ordering::Relaxed);
        return format!("{{\"answered\":{answered}}}").into_response();
    }
    if canned.on.load(Ordering::Relaxed) {
        let canned_body = if parts.method == Method::POST && is_assume_role(&body) {
            Some(canned.assume.clone())
        } else if parts.method == Method::GET
            && pairs(query).any(|(k, v)| k == "list-type" && v == "2")
        {
            Some(canned.listing(parts.uri.path(), query))
        } else {
            None
        };
        if let Some(xml) = canned_body {
            canned.answered.fetch_add(1, Ordering::Relaxed);
            return (
                [
                    (header::CONTENT_TYPE, "text/xml"),
                    (
                        header::HeaderName::from_static("x-amz-request-id"),
                        "CANNED0000000000",
                    ),
                ],
                xml,
            )
                .into_response();
        }
    }
    forward(&canned, parts, body).await
}

/// The request as it came (its signature covers the Host header, which is kept), sent upstream.
async fn forward(canned: &Canned, mut parts: http::request::Parts, body: Bytes) -> Response {
    let mut uri = canned.upstream.clone().into_parts();
    uri.path_and_query = parts
        .uri
        .path_and_query()
        .cloned()
        .or(Some(PathAndQuery::from_static("/")));
    parts.uri = Uri::from_parts(uri).expect("the upstream's scheme and authority with a path");
    match canned
        .client
        .request(http::Request::from_parts(parts, Full::new(body)))
        .await
    {
        Ok(response) => response.map(Body::new),
        Err(err) => (StatusCode::BAD_GATEWAY, format!("upstream: {err}")).into_response(),
    }
}

/// An STS Query call's form body: `Action=AssumeRole&…`.
fn is_assume_role(body: &[u8]) -> bool {
    std::str::from_utf8(body)
        .is_ok_and(|form| pairs(form).any(|(k, v)| k == "Action" && v == "AssumeRole"))
}

/// `key=value` pairs of a query or form, decoded.
fn pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap_or_default()
        .into_iter()
}

impl Canned {
    fn listing(&self, path: &str, query: &str) -> Bytes {
        let bucket = path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let (mut prefix, mut most, mut delimited, mut page) = (String::new(), KEYS, false, 0);
        for (key, value) in pairs(query) {
            match key.as_str() {
                "prefix" => prefix = value,
                "max-keys" => most = value.parse().unwrap_or(KEYS).min(KEYS),
                "delimiter" => delimited = true,
                "continuation-token" => page = value.parse().unwrap_or(0),
                _ => {}
            }
        }
        if !delimited {
            return walk_body(&bucket, &prefix, page);
        }
        let mut listings = self.listings.lock().unwrap_or_else(|p| p.into_inner());
        listings
            .entry((bucket.clone(), prefix.clone(), most))
            .or_insert_with(|| list_body(&bucket, &prefix, most))
            .clone()
    }
}

fn assume_role_body() -> Bytes {
    // Real session tokens are several hundred characters of base64 (as long, to decode as
    // much); the key id and secret say what they are, so nothing here looks like a credential.
    let token: String = (0..800)
        .map(|i| char::from(b"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/"[i % 38]))
        .collect();
    format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
<AssumedRoleUser><AssumedRoleId>AROA3XFRBF23EXAMPLE01:crossview</AssumedRoleId>\
<Arn>arn:aws:sts::111122223333:assumed-role/crossview-bench/crossview</Arn></AssumedRoleUser>\
<Credentials><AccessKeyId>canned-benchmark-key-id</AccessKeyId>\
<SecretAccessKey>canned-benchmark-secret-not-a-credential</SecretAccessKey>\
<SessionToken>{token}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>\
<PackedPolicySize>7</PackedPolicySize></AssumeRoleResult>\
<ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>\
</AssumeRoleResponse>"
    )
    .into()
}

/// Page `page` of [`WALK_KEYS`] keys under `prefix` (no delimiter), the next page's number as
/// its continuation token.
fn walk_body(bucket: &str, prefix: &str, page: usize) -> Bytes {
    let first = page * KEYS;
    let count = KEYS.min(WALK_KEYS.saturating_sub(first));
    let more = first + count < WALK_KEYS;
    let next = match more {
        true => format!(
            "<NextContinuationToken>{}</NextContinuationToken>",
            page + 1
        ),
        false => String::new(),
    };
    let head = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
<Name>{}</Name><Prefix>{}</Prefix><KeyCount>{count}</KeyCount><MaxKeys>{KEYS}</MaxKeys>\
<IsTruncated>{more}</IsTruncated>{next}",
        escape(bucket),
        escape(prefix)
    );
    contents(head, prefix, first..first + count, 7)
}

/// `most` keys directly under `prefix`, with names, sizes, ETags and times like a real folder's.
fn list_body(bucket: &str, prefix: &str, most: usize) -> Bytes {
    let head = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
<Name>{}</Name><Prefix>{}</Prefix><KeyCount>{most}</KeyCount><MaxKeys>{most}</MaxKeys>\
<Delimiter>/</Delimiter><IsTruncated>false</IsTruncated>",
        escape(bucket),
        escape(prefix)
    );
    contents(head, prefix, 0..most, 4)
}

/// `head`, then the keys numbered `keys` under `prefix` (numbers `width` digits wide), and the
/// listing's end.
fn contents(mut xml: String, prefix: &str, keys: std::ops::Range<usize>, width: usize) -> Bytes {
    const STEMS: [&str; 6] = [
        "invoice",
        "IMG",
        "report Q3",
        "export-データ",
        "backup",
        "notes",
    ];
    const EXTS: [&str; 6] = ["pdf", "jpg", "xlsx", "csv", "tar.gz", "md"];
    let prefix = escape(prefix);
    for i in keys {
        let (stem, ext) = (STEMS[i % STEMS.len()], EXTS[(i / 7) % EXTS.len()]);
        let size = 1_000 + (i * 7_919) % 48_000_000;
        let etag = format!(
            "{:032x}",
            (i as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834)
        );
        let (day, second) = (1 + i % 28, i % 86_400);
        let _ = write!(
            xml,
            "<Contents><Key>{prefix}{stem}-{i:0width$}.{ext}</Key>\
<LastModified>2026-11-{day:02}T{:02}:{:02}:{:02}.000Z</LastModified>\
<ETag>&quot;{etag}&quot;</ETag><Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>",
            second / 3600,
            second / 60 % 60,
            second % 60
        );
    }
    xml.push_str("</ListBucketResult>");
    xml.into()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
