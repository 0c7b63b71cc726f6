//! Nobody can stall an instance: slow clients hold sockets, never the server; what a client
//! invents (methods, keys) never grows what the server keeps. Against the real server binary,
//! over TCP, where the listener is the point.

use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    task::JoinSet,
};

use crate::support::{
    config_with,
    standin::{browser_with_connection, http, http_with_body, READ_ALL, READ_WRITE},
    state_with, Browser, Served,
};

/// A POST whose body never finishes arriving: one byte every 200 ms. Returns the status the
/// server answered with (0 if it closed without one) and how long that took.
async fn trickle(addr: String) -> (u16, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/sign_in HTTP/1.1\r\nHost: {addr}\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            },
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                if stream.write_all(b"e").await.is_err() {
                    break;
                }
            }
        }
    }
    let status = String::from_utf8_lossy(&answer)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, started.elapsed())
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn sixty_four_trickling_posts_stall_no_page_and_end_with_408(pool: PgPool) {
    let (_, connection) = browser_with_connection(&pool, "trickled", READ_ALL).await;
    let server = Served::start(
        &pool,
        &[
            ("BODY_READ_TIMEOUT_SECS", "4"),
            ("AWS_S3_FORCE_PATH_STYLE", "true"),
        ],
    )
    .await;
    let cookie = server.sign_in("trickled@example.com").await;
    let mut tricklers = JoinSet::new();
    for _ in 0..64 {
        tricklers.spawn(trickle(server.addr.clone()));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Every trickler is connected and sending; the folder page is served all the same.
    let folder = format!("http://{}/c/{}/cv-big", server.addr, connection.id);
    let started = Instant::now();
    let page = tokio::time::timeout(
        Duration::from_secs(2),
        http("GET", &folder, &[("Cookie", &cookie)]),
    )
    .await
    .expect("the folder page within 2 s while 64 bodies trickle in");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("key-00000.txt"));
    println!(
        "folder page in {:?} beside 64 trickling posts",
        started.elapsed()
    );
    for (status, took) in tricklers.join_all().await {
        assert_eq!(status, 408, "after {took:?}");
        assert!(took < Duration::from_secs(6), "408 after {took:?}");
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn headers_that_never_end_are_cut_off(pool: PgPool) {
    let server = Served::start(&pool, &[("HEADER_READ_TIMEOUT_SECS", "1")]).await;
    let mut stream = TcpStream::connect(&server.addr).await.unwrap();
    stream
        .write_all(b"GET /sign-in HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(4), stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the connection is still open after 4 s");
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn invented_methods_are_refused_and_leave_the_metrics_as_they_were(pool: PgPool) {
    let token = "t".repeat(40);
    let config = config_with(false, &[("METRICS_TOKEN", &token)]);
    let mut browser = Browser::on(state_with(pool, config).await);
    let scrape = async |browser: &mut Browser| {
        let req = browser
            .request("GET", "/metrics")
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap();
        browser.send(req).await.body
    };
    browser.get("/sign-in").await;
    let before = scrape(&mut browser).await;
    for i in 0..1000 {
        let req = browser
            .request(&format!("INVENTED{i}"), "/sign-in")
            .body(axum::body::Body::empty())
            .unwrap();
        let answer = browser.send(req).await;
        assert_eq!(answer.status, 501, "method {i}");
    }
    let after = scrape(&mut browser).await;
    // The registry is the process's, shared with the tests running beside this one: what
    // counts is that no invented name became a series.
    assert!(!after.contains("INVENTED"), "{after}");
    let labels = |metrics: &str| -> std::collections::BTreeSet<String> {
        metrics
            .split("method=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(str::to_owned)
            .collect()
    };
    let known = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "other",
    ];
    assert!(
        labels(&after).iter().all(|m| known.contains(&m.as_str())),
        "{after}"
    );
    println!(
        "{} lines before, {} after",
        before.lines().count(),
        after.lines().count()
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_64_kib_key_is_refused_at_once_and_the_audit_keeps_nothing_past_its_caps(pool: PgPool) {
    let (mut browser, c) = browser_with_connection(&pool, "long-keys", READ_WRITE).await;
    let key = "k".repeat(64 << 10);
    let started = Instant::now();
    let details = browser
        .call(
            "object",
            &format!("connection={}&bucket=cv-mixed&key={key}", c.id),
        )
        .await;
    let took = started.elapsed();
    assert_eq!(details.status, 400, "{}", details.body);
    assert!(details.body.contains("KeyInvalid"), "{}", details.body);
    assert!(took < Duration::from_millis(50), "answered in {took:?}");
    for (from, to) in [(key.as_str(), "short.txt"), ("short.txt", key.as_str())] {
        let copy = serde_json::json!({
            "connection": c.id, "bucket": "cv-work", "from": from, "to": to,
            "remove_source": false,
        });
        let answer = browser.call_json("objects_copy", &copy).await;
        assert_eq!(answer.status, 400, "{}", answer.body);
    }
    // Nothing in the trail is longer than its caps.
    let (longest_key, longest_detail): (Option<i32>, Option<i32>) = sqlx::query_as(
        "select max(octet_length(key)), max(octet_length(detail::text)) from audit_events",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(longest_key.unwrap_or(0) <= 1024, "{longest_key:?}");
    assert!(longest_detail.unwrap_or(0) <= 4096, "{longest_detail:?}");
    // The table refuses what the application would never write.
    let refused =
        sqlx::query("select audit_append(null, null, 'copy', null, $1, 'ok', 'ok', null, '{}')")
            .bind(&key)
            .execute(&pool)
            .await;
    assert!(refused.is_err(), "a 64 KiB key reached the audit table");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn one_user_spends_their_own_allowance_of_assumptions_and_their_links_still_open(
    pool: PgPool,
) {
    let (_, c) = browser_with_connection(&pool, "hurried", READ_ALL).await;
    let owner: i64 = sqlx::query_scalar("select id from users where email = 'hurried@example.com'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let state = crate::support::standin::state(pool.clone(), crate::support::aws().await).await;
    let target = app::aws::access::Target::new(
        &state,
        owner,
        c.id,
        "cv-mixed",
        "walk/one/two/three/report.csv",
    )
    .unwrap();
    let link = app::shares::ssr::create(&target, &crate::support::share_for(1, false))
        .await
        .unwrap();
    let server = Served::start(
        &pool,
        &[
            ("ASSUMPTIONS_PER_USER_PER_MINUTE", "6"),
            ("AWS_S3_FORCE_PATH_STYLE", "true"),
        ],
    )
    .await;
    let cookie = server.sign_in("hurried@example.com").await;
    // The folder's listing, as the page's script asks for it (a page answers 200 before its
    // data has arrived, and shows a refusal in place).
    let url = format!("http://{}/api/objects", server.addr);
    let body = format!("connection={}&bucket=cv-mixed&prefix=", c.id);
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Accept", "application/json"),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    // Verifying the connection and creating the link spent two of the six (the minute before
    // counts too, so a turning minute gives nothing back): four listings, then 429.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let listed = http_with_body("POST", &url, &headers, body.as_bytes()).await;
        statuses.push(listed.status);
        if listed.status == 429 {
            assert!(listed.body.contains("TooFast"), "{}", listed.body);
            break;
        }
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429]);
    let assumed: Vec<(String, String)> =
        sqlx::query_as("select action, outcome from audit_events where actor_id = $1 order by id")
            .bind(owner)
            .fetch_all(&pool)
            .await
            .unwrap();
    let listed = assumed.iter().filter(|(a, _)| a == "object.list").count();
    assert_eq!(
        listed,
        statuses.len() - 1,
        "a refusal assumes nothing: {statuses:?} {assumed:?}"
    );
    // Strangers opening the owner's link spend the link's allowance, not the owner's: it opens.
    let opened = http(
        "GET",
        &format!("http://{}{}/download", server.addr, link.path),
        &[],
    )
    .await;
    assert_eq!(opened.status, 302, "{}", opened.body);
}
