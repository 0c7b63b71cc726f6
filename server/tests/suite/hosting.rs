//! Hosting: many instances on one Postgres, start-up that does no needless work, and static files
//! delivered as a CDN wants them. Against the real server binary where a process is the point.

use app::{config::Database, db::MIGRATOR};
use server::start::{self, Schema};
use sqlx::PgPool;

use crate::support::{
    database_url,
    standin::{browser_with_connection, http, READ_ALL},
    Served,
};

fn database(url: &str) -> Database {
    Database::from_lookup(|key| (key == "DATABASE_URL").then(|| url.to_owned())).unwrap()
}

#[sqlx::test(migrations = false)]
async fn ten_instances_started_at_once_on_an_empty_database_migrate_it_once_and_all_serve(
    pool: PgPool,
) {
    let url = database_url(&pool).await;
    let instances: Vec<Served> = (0..10).map(|_| Served::spawn(&url, &[])).collect();
    for instance in instances {
        let instance = instance.listening().await;
        let ready = http("GET", &format!("http://{}/readyz", instance.addr), &[]).await;
        assert_eq!(ready.status, 200, "{}", instance.addr);
        let page = http("GET", &format!("http://{}/sign-in", instance.addr), &[]).await;
        assert_eq!(page.status, 200, "{}", instance.addr);
    }
    let applied: Vec<i64> = sqlx::query_scalar("select version from _sqlx_migrations order by 1")
        .fetch_all(&pool)
        .await
        .unwrap();
    let known: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    assert_eq!(applied, known, "each migration applied exactly once");
}

#[sqlx::test(migrations = false)]
async fn a_current_schema_costs_one_read_and_an_old_one_is_migrated(pool: PgPool) {
    let db = database(&database_url(&pool).await);
    assert_eq!(start::migrate(&pool, &db).await.unwrap(), Schema::Migrated);
    assert_eq!(start::migrate(&pool, &db).await.unwrap(), Schema::Current);

    assert!(start::is_current(&pool).await);

    // A migration edited since it was applied, or one not applied yet: the locked path decides.
    let newest = MIGRATOR.iter().map(|m| m.version).max().unwrap();
    for (change, seen) in [
        (
            "update _sqlx_migrations set checksum = '\\x00' where version = $1",
            "a changed checksum",
        ),
        (
            "delete from _sqlx_migrations where version = $1",
            "a missing migration",
        ),
    ] {
        sqlx::query(change)
            .bind(newest)
            .execute(&pool)
            .await
            .unwrap();
        assert!(!start::is_current(&pool).await, "{seen} is not seen");
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn pages_are_compressed_and_static_files_hashed_kept_for_a_year_and_precompressed(
    pool: PgPool,
) {
    let server = Served::start(&pool, &[]).await;
    let base = format!("http://{}", server.addr);
    let page = http("GET", &format!("{base}/sign-in"), &[]).await;
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("content-encoding"), None);
    // Pages are compressed in gzip when the browser accepts it (not brotli: see the router),
    // and say that they vary by it.
    for (accepts, encoding) in [
        ("gzip", Some("gzip")),
        ("br, gzip", Some("gzip")),
        ("br", None),
    ] {
        let accepts = [("Accept-Encoding", accepts)];
        let packed = http("GET", &format!("{base}/sign-in"), &accepts).await;
        assert_eq!(packed.header("content-encoding"), encoding, "{accepts:?}");
        assert_eq!(packed.header("cache-control"), Some("no-store"));
    }
    // The sign-in page is served without the app; a signed-in page names its files.
    crate::support::Browser::new(pool.clone(), false)
        .await
        .sign_up("static@example.com", "a long enough passphrase")
        .await;
    let cookie = server.sign_in("static@example.com").await;
    let app = http("GET", &format!("{base}/"), &[("Cookie", &cookie)]).await;
    assert_eq!(app.status, 200);
    let names: Vec<&str> = app
        .body
        .split(['"', '\''])
        .filter(|s| s.starts_with("/pkg/crossview."))
        .collect();
    for kind in ["js", "wasm", "css"] {
        let name = names
            .iter()
            .find(|n| n.ends_with(&format!(".{kind}")))
            .unwrap_or_else(|| panic!("no .{kind} in {names:?}: build with scripts/test.sh"));
        // crossview.<hash>.<kind>: the name changes with the content.
        assert_eq!(name.split('.').count(), 3, "{name} carries a hash");
        let url = format!("{base}{name}");
        let plain = http("GET", &url, &[]).await;
        assert_eq!(plain.status, 200, "{name}");
        assert_eq!(
            plain.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(plain.header("content-encoding"), None);
        let size = |a: &crate::support::standin::Answer| -> u64 {
            a.header("content-length").unwrap().parse().unwrap()
        };
        for encoding in ["br", "gzip"] {
            let packed = http("GET", &url, &[("Accept-Encoding", encoding)]).await;
            assert_eq!(packed.header("content-encoding"), Some(encoding), "{name}");
            assert!(size(&packed) < size(&plain), "{name} in {encoding}");
            assert_eq!(
                packed.header("cache-control"),
                Some("public, max-age=31536000, immutable")
            );
        }
    }
    // A name no build has (yet) is not remembered.
    let missing = http("GET", &format!("{base}/pkg/crossview.nothing.js"), &[]).await;
    assert_eq!(missing.status, 404);
    assert_ne!(
        missing.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_request_is_one_json_line_and_the_metrics_count_it_behind_a_token(pool: PgPool) {
    let (_, connection) = browser_with_connection(&pool, "observed", READ_ALL).await;
    let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("observed.log");
    let token = "m".repeat(40);
    let server = Served::logged(
        &pool,
        &[
            ("LOG_FORMAT", "json"),
            ("RUST_LOG", "info"),
            ("METRICS_TOKEN", &token),
            ("AWS_S3_FORCE_PATH_STYLE", "true"),
        ],
        &log,
    )
    .await;
    let base = format!("http://{}", server.addr);
    let cookie = server.sign_in("observed@example.com").await;
    let page = http(
        "GET",
        &format!("{base}/c/{}/cv-big", connection.id),
        &[("Cookie", &cookie)],
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("key-00000.txt"));
    let download = http(
        "GET",
        &format!(
            "{base}/api/download?connection={}&bucket=cv-big&key=key-00001.txt",
            connection.id
        ),
        &[("Cookie", &cookie), ("Sec-Fetch-Site", "same-origin")],
    )
    .await;
    let presigned = download.header("location").expect("a presigned URL");
    assert!(presigned.contains("X-Amz-Signature"));

    // One JSON object per line; the folder page's names who, which connection and AWS's ids.
    let lines = std::fs::read_to_string(&log).unwrap();
    let requests: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .filter(|v: &serde_json::Value| v["target"] == "crossview::request")
        .collect();
    let folder = requests
        .iter()
        .find(|r| r["route"] == "/c/{conn}/{bucket}")
        .unwrap_or_else(|| panic!("{requests:?}"));
    let user: i64 = sqlx::query_scalar("select id from users where email = 'observed@example.com'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(folder["status"], 200);
    assert_eq!(folder["user_id"], user);
    assert_eq!(folder["connection_id"], connection.id);
    assert!(folder["latency_ms"].as_f64().unwrap() > 0.0);
    let ids = folder["aws_request_ids"].as_str().unwrap();
    assert!(
        ids.split(',').count() >= 2,
        "AssumeRole and ListObjectsV2: {ids}"
    );
    assert!(folder["request_id"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));
    // Never a credential, a presigned URL or the session.
    let session = cookie.split('=').nth(1).unwrap();
    for secret in ["X-Amz-Signature", "ASIA", presigned, session] {
        assert!(!lines.contains(secret), "the log holds {secret}");
    }

    // Metrics: not without the token, counted with it.
    let scrape = |auth: String| {
        let url = format!("{base}/metrics");
        async move { http("GET", &url, &[("Authorization", &auth)]).await }
    };
    assert_eq!(scrape(String::new()).await.status, 401);
    assert_eq!(
        scrape(format!("Bearer {}", "x".repeat(40))).await.status,
        401
    );
    let metrics = scrape(format!("Bearer {token}")).await;
    assert_eq!(metrics.status, 200);
    let value = |series: &str| -> f64 {
        let line = metrics.body.lines().find(|l| l.starts_with(series));
        let line = line.unwrap_or_else(|| panic!("{series} in\n{}", metrics.body));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let folder_pages = "crossview_http_request_duration_seconds_count{route=\"/c/{conn}/{bucket}\",method=\"GET\",status=\"2xx\"}";
    assert_eq!(value(folder_pages), 1.0);
    assert!(
        value("crossview_assume_role_total{outcome=\"ok\"}") >= 2.0,
        "page and download"
    );
    assert!(value("crossview_s3_call_duration_seconds_count{operation=\"ListObjectsV2\"}") >= 1.0);
    assert!(value("crossview_db_pool_connections{state=\"idle\"}") >= 1.0);
    assert_eq!(value("crossview_db_pool_max_connections"), 10.0);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn metrics_are_not_served_without_a_token(pool: PgPool) {
    let server = Served::start(&pool, &[]).await;
    let answer = http("GET", &format!("http://{}/metrics", server.addr), &[]).await;
    assert_eq!(answer.status, 404);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn what_the_server_writes_to_a_pipe_has_no_colour_codes(pool: PgPool) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env("DATABASE_URL", database_url(&pool).await)
        .env("SESSION_SECRET", "too short")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(!out.status.success(), "a short secret is refused");
    let printed = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(printed.contains("SESSION_SECRET"), "{printed}");
    assert!(!printed.contains('\u{1b}'), "colour codes in {printed:?}");
}
