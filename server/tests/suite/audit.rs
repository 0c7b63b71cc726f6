//! The audit trail: its hash chain holds under concurrent writers and shows tampering, searches
//! combine filters and page by cursor, exports stream every row with hashes an auditor can check
//! offline, and archiving drops whole months without breaking the chain.

use app::{
    audit::{
        ssr::{digest, export, record, search, verify, verify_against, Event, Format},
        Activity, AuditFilter, ChainBreak, Outcome,
    },
    config::AuditDigest,
    error::AppError,
};
use futures::TryStreamExt;
use sqlx::PgPool;

use crate::{
    admins::{operator, operator_with, user_id},
    support::Browser,
};

const PASSWORD: &str = "a long enough passphrase";

/// One audit row through the app's own path.
async fn write(
    pool: &PgPool,
    actor: Option<i64>,
    action: Activity,
    bucket: &str,
    key: &str,
    outcome: Outcome,
) {
    let event = Event {
        actor_id: actor,
        bucket: Some(bucket),
        key: Some(key),
        ..Event::new(action, outcome)
    };
    record(pool, event).await.unwrap();
}

async fn rows(pool: &PgPool, n: usize) {
    for i in 0..n {
        let key = format!("reports/{i}.csv");
        write(pool, None, Activity::Download, "payroll", &key, Outcome::Ok).await;
    }
}

/// Runs `sql` as the database's superuser with every trigger off: what an attacker with the
/// database's keys could do.
async fn tamper(pool: &PgPool, sql: &str) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("set local session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(sql).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
}

/// `python3 scripts/audit_verify.py FILE`, as an auditor runs it: whether it passed, and what
/// it said.
fn verify_offline(file: &std::path::Path) -> (bool, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/audit_verify.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn problem(pool: &PgPool) -> Option<ChainBreak> {
    verify(pool).await.unwrap().problem
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_chain_shows_an_altered_a_removed_and_an_out_of_order_row(pool: PgPool) {
    rows(&pool, 10).await;
    let report = verify(&pool).await.unwrap();
    assert_eq!(
        (report.rows, report.first_id, report.problem),
        (10, 1, None)
    );
    let (ok, said) = operator(&pool, &["audit", "verify"]);
    assert!(
        ok && said.contains("the audit chain holds: 10 rows"),
        "{said}"
    );

    // Altered: one key changed in place.
    tamper(
        &pool,
        "update audit_events set key = 'reports/x.csv' where id = 4",
    )
    .await;
    assert_eq!(problem(&pool).await, Some(ChainBreak::Altered { id: 4 }));
    let (ok, said) = operator(&pool, &["audit", "verify"]);
    assert!(!ok && said.contains("row 4 was altered"), "{said}");
    tamper(
        &pool,
        "update audit_events set key = 'reports/3.csv' where id = 4",
    )
    .await;
    // The operator's verify runs were audited (rows 11 and 12): the chain holds again.
    assert_eq!(problem(&pool).await, None);

    // Removed: a row in the middle, then the newest one.
    tamper(
        &pool,
        "create table kept as select * from audit_events where id in (6, 12)",
    )
    .await;
    tamper(&pool, "delete from audit_events where id = 6").await;
    assert_eq!(
        problem(&pool).await,
        Some(ChainBreak::Removed {
            after: 5,
            before: 7,
            rows: 1
        })
    );
    tamper(
        &pool,
        "insert into audit_events (id, at, actor_id, connection_id, account_id, action, bucket, key, outcome, class, aws_request_id, detail, prev_hash, hash) select id, at, actor_id, connection_id, account_id, action, bucket, key, outcome, class, aws_request_id, detail, prev_hash, hash from kept where id = 6",
    )
    .await;
    assert_eq!(problem(&pool).await, None);
    tamper(&pool, "delete from audit_events where id = 12").await;
    assert_eq!(
        problem(&pool).await,
        Some(ChainBreak::Truncated { head: 12, last: 11 })
    );
    tamper(
        &pool,
        "insert into audit_events (id, at, actor_id, connection_id, account_id, action, bucket, key, outcome, class, aws_request_id, detail, prev_hash, hash) select id, at, actor_id, connection_id, account_id, action, bucket, key, outcome, class, aws_request_id, detail, prev_hash, hash from kept where id = 12",
    )
    .await;
    assert_eq!(problem(&pool).await, None);

    // Inserted out of order: a copy of row 3 slipped in between rows 7 and 8.
    tamper(
        &pool,
        "insert into audit_events
         select 3, (select at from audit_events where id = 7) + interval '1 microsecond',
                actor_id, connection_id, account_id, action, bucket, 'reports/forged.csv',
                outcome, class, aws_request_id, detail, prev_hash, hash
         from audit_events where id = 3",
    )
    .await;
    assert_eq!(
        problem(&pool).await,
        Some(ChainBreak::OutOfOrder { id: 3, after: 7 })
    );
}

/// One audit row for connection `connection`: the connection picks the row's shard.
async fn write_for(pool: &PgPool, connection: i64, key: &str) {
    let event = Event {
        connection_id: Some(connection),
        bucket: Some("media"),
        key: Some(key),
        ..Event::new(Activity::Upload, Outcome::Ok)
    };
    record(pool, event).await.unwrap();
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn concurrent_writers_keep_every_shard_whole_and_in_order(pool: PgPool) {
    let writers = (0..8).map(|w| {
        let pool = pool.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                write_for(&pool, w, &format!("w{w}/{i}")).await;
            }
        })
    });
    for writer in writers {
        writer.await.unwrap();
    }
    let report = verify(&pool).await.unwrap();
    assert_eq!((report.rows, report.shards, report.problem), (320, 4, None));
    // The eight connections spread over the four shards; in each, places are gapless and
    // neither time nor id goes back along them.
    let shards: Vec<(i16, i64, i64, i64, i64)> = sqlx::query_as(
        "select shard, count(*), max(seq),
                count(*) filter (where at < prev_at), count(*) filter (where id < prev_id)
         from (select shard, seq, id, at, lag(at) over w as prev_at, lag(id) over w as prev_id
               from audit_events window w as (partition by shard order by seq)) t
         group by shard order by shard",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        shards,
        [
            (0, 80, 80, 0, 0),
            (1, 80, 80, 0, 0),
            (2, 80, 80, 0, 0),
            (3, 80, 80, 0, 0)
        ]
    );
    // Ids are unique over the whole trail.
    let distinct: i64 = sqlx::query_scalar("select count(distinct id) from audit_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(distinct, 320);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn each_shard_shows_tampering_and_the_digest_covers_every_head(pool: PgPool) {
    for connection in 0..4 {
        for i in 0..5 {
            write_for(&pool, connection, &format!("c{connection}/{i}")).await;
        }
    }
    let id_at = |shard: i16, seq: i64| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "select id from audit_events where shard = $1 and seq = $2",
            )
            .bind(shard)
            .bind(seq)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(problem(&pool).await, None);

    // Exports carry each row's shard and place: offline, every shard's links are checked.
    let dir = std::env::temp_dir().join(format!("crossview-shard-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for format in [Format::Csv, Format::Ndjson] {
        let chunks: Vec<_> = export(pool.clone(), &AuditFilter::default(), format)
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let file = dir.join(format!("audit.{}", format.extension()));
        std::fs::write(&file, chunks.concat()).unwrap();
        let (ok, said) = verify_offline(&file);
        assert!(
            ok && said.contains("ok: 20 rows, 16 links checked in 4 shards"),
            "{said}"
        );
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, text.replacen("c2/3", "c2/9", 1)).unwrap();
        let (ok, said) = verify_offline(&file);
        assert!(!ok && said.contains("altered"), "{said}");
    }
    let _ = std::fs::remove_dir_all(&dir);

    // A row gone from the middle of shard 2 shows as a gap in that shard alone.
    let (before, gone, after) = (id_at(2, 2).await, id_at(2, 3).await, id_at(2, 4).await);
    tamper(
        &pool,
        &format!("create table kept as select * from audit_events where id = {gone}"),
    )
    .await;
    tamper(
        &pool,
        &format!("delete from audit_events where id = {gone}"),
    )
    .await;
    assert_eq!(
        problem(&pool).await,
        Some(ChainBreak::Removed {
            after: before,
            before: after,
            rows: 1
        })
    );
    tamper(
        &pool,
        "insert into audit_events (id, at, actor_id, connection_id, account_id, action, bucket,
                                   key, outcome, class, aws_request_id, detail, prev_hash, hash,
                                   shard, seq)
         select id, at, actor_id, connection_id, account_id, action, bucket, key, outcome, class,
                aws_request_id, detail, prev_hash, hash, shard, seq
         from kept",
    )
    .await;
    assert_eq!(problem(&pool).await, None);

    // A row moved to another shard breaks both walks; one in a shard without a head is stray.
    tamper(
        &pool,
        &format!("update audit_events set shard = 1 where id = {gone}"),
    )
    .await;
    assert!(problem(&pool).await.is_some());
    tamper(
        &pool,
        &format!("update audit_events set shard = 9 where id = {gone}"),
    )
    .await;
    assert_eq!(
        problem(&pool).await,
        Some(ChainBreak::Stray { id: gone, shard: 9 })
    );
    tamper(
        &pool,
        &format!("update audit_events set shard = 2 where id = {gone}"),
    )
    .await;
    assert_eq!(problem(&pool).await, None);

    // Two shards: connection 3's rows now go to shard 1, shards 2 and 3 keep their chains.
    let (ok, said) = operator(&pool, &["audit", "shards", "2"]);
    assert!(ok && said.contains("over 2 shards (were 4)"), "{said}");
    write_for(&pool, 3, "c3/after").await;
    let shard: i16 = sqlx::query_scalar("select shard from audit_events where key = 'c3/after'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(shard, 1);
    let report = verify(&pool).await.unwrap();
    assert_eq!((report.shards, report.problem), (4, None));
    for bad in ["0", "257", "four"] {
        let (ok, said) = operator(&pool, &["audit", "shards", bad]);
        assert!(!ok && said.contains("from 1 to 256"), "{said}");
    }

    // A whole shard cut, its head and all, leaves the other chains holding: only the signed
    // digest, which covers every head under one root, shows it.
    let database = pool.connect_options().get_database().unwrap().to_owned();
    let dir = std::env::temp_dir().join(format!("crossview-shards-{database}"));
    let _ = std::fs::remove_dir_all(&dir);
    let signer = AuditDigest {
        key: "k".repeat(40).into(),
        dir: dir.clone(),
        every: std::time::Duration::from_secs(3600),
    };
    digest::write(&pool, &signer).await.unwrap();
    let pins = digest::read(&signer, &dir).unwrap();
    assert_eq!(pins.len(), 4);
    assert_eq!(verify_against(&pool, &pins).await.unwrap().pins_checked, 4);
    let last_of_3 = id_at(3, 5).await;
    tamper(&pool, "delete from audit_events where shard = 3").await;
    tamper(&pool, "delete from audit_chain where shard = 3").await;
    assert_eq!(problem(&pool).await, None);
    assert_eq!(
        verify_against(&pool, &pins).await.unwrap().problem,
        Some(ChainBreak::RemovedSince {
            after: 0,
            to: last_of_3,
            at: pins[0].at.clone()
        })
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn verify_on_a_live_chain_never_reports_its_newest_rows_removed(pool: PgPool) {
    rows(&pool, 1000).await;
    let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (pool, running) = (pool.clone(), running.clone());
            tokio::spawn(async move {
                let mut i: u64 = 0;
                while running.load(std::sync::atomic::Ordering::Relaxed) {
                    let key = format!("live{w}/{i}");
                    write(&pool, None, Activity::Upload, "media", &key, Outcome::Ok).await;
                    i += 1;
                }
                i
            })
        })
        .collect();
    for walk in 0..15 {
        let report = verify(&pool).await.unwrap();
        assert_eq!(report.problem, None, "walk {walk} of {} rows", report.rows);
    }
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    let mut written = 0;
    for writer in writers {
        written += writer.await.unwrap();
    }
    assert!(written > 0, "the writers ran while the walks did");
    assert_eq!(verify(&pool).await.unwrap().rows, 1000 + written);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn searches_combine_filters_and_page_by_cursor(pool: PgPool) {
    let dana = crate::support::standin::owner(&pool, "dana@example.com").await;
    let eve = crate::support::standin::owner(&pool, "eve@example.com").await;
    rows(&pool, 120).await; // anonymous downloads from payroll
    let denied = Outcome::Error("Denied".into());
    write(
        &pool,
        Some(dana),
        Activity::Download,
        "payroll",
        "2026/march.pdf",
        denied.clone(),
    )
    .await;
    write(
        &pool,
        Some(dana),
        Activity::Download,
        "payroll",
        "2026/april.pdf",
        Outcome::Ok,
    )
    .await;
    write(
        &pool,
        Some(eve),
        Activity::Delete,
        "payroll",
        "2026/march.pdf",
        denied,
    )
    .await;
    write(
        &pool,
        Some(eve),
        Activity::Download,
        "media",
        "2026/%_odd",
        Outcome::Ok,
    )
    .await;

    let found = |filter: AuditFilter| {
        let pool = pool.clone();
        async move {
            let page = search(&pool, &filter).await.unwrap();
            page.rows.into_iter().map(|r| r.id).collect::<Vec<_>>()
        }
    };
    let f = |set: fn(&mut AuditFilter)| {
        let mut filter = AuditFilter::default();
        set(&mut filter);
        filter
    };
    assert_eq!(
        found(f(|f| f.actor = "DANA@example.com".into())).await,
        [122, 121]
    );
    assert_eq!(found(f(|f| f.outcome = "refused".into())).await, [123, 121]);
    assert_eq!(
        found(f(|f| {
            f.outcome = "refused".into();
            f.action = "download".into();
        }))
        .await,
        [121]
    );
    assert_eq!(found(f(|f| f.bucket = "media".into())).await, [124]);
    // A prefix is literal: % and _ match only themselves.
    assert_eq!(
        found(f(|f| {
            f.bucket = "media".into();
            f.prefix = "2026/%_".into();
        }))
        .await,
        [124]
    );
    assert_eq!(
        found(f(|f| {
            f.bucket = "payroll".into();
            f.prefix = "2026/m".into();
        }))
        .await,
        [123, 121]
    );
    assert!(found(f(|f| f.to = "2000-01-01".into())).await.is_empty());
    assert!(found(f(|f| f.actor = "nobody@example.com".into()))
        .await
        .is_empty());

    // Paging: newest first, 50 at a time, each page starting where the last ended.
    let mut seen = Vec::new();
    let mut filter = f(|f| f.bucket = "payroll".into());
    loop {
        let page = search(&pool, &filter).await.unwrap();
        seen.extend(page.rows.iter().map(|r| r.id));
        match page.next {
            Some(cursor) => filter = filter.at_page(Some(&cursor)),
            None => break,
        }
    }
    let expected: Vec<i64> = (1..=123).rev().collect();
    assert_eq!(seen, expected);

    for bad in [
        f(|f| f.outcome = "maybe".into()),
        f(|f| f.account = "12345".into()),
        f(|f| f.connection = "one".into()),
        f(|f| f.from = "last march".into()),
        f(|f| f.before = "junk".into()),
    ] {
        assert_eq!(
            search(&pool, &bad).await.unwrap_err(),
            AppError::SearchInvalid
        );
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn exports_stream_every_row_with_hashes_that_verify_offline(pool: PgPool) {
    let mut admin = Browser::new(pool.clone(), false).await;
    admin.sign_up_admin("auditor@example.com", PASSWORD).await;
    let mut user = admin.another();
    user.sign_up("user@example.com", PASSWORD).await;
    rows(&pool, 300).await;
    write(
        &pool,
        None,
        Activity::Download,
        "payroll",
        "odd \"key\", with\nnewline ✓",
        Outcome::Ok,
    )
    .await;

    let dir = std::env::temp_dir().join(format!("crossview-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for format in ["csv", "ndjson"] {
        // As a browser asks for it: pages would come back in gzip, the export never does.
        let req = admin
            .request(
                "GET",
                &format!("/admin/audit/export?format={format}&bucket=payroll"),
            )
            .header("accept-encoding", "gzip, deflate, br")
            .body(axum::body::Body::empty())
            .unwrap();
        let page = admin.send(req).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.header("content-disposition").starts_with("attachment"));
        assert_eq!(page.header("content-encoding"), "", "{format}");
        let lines = page.body.lines().count();
        // 301 rows; the CSV adds a header, and its one key with a newline spans two lines
        let expected = if format == "csv" { 303 } else { 301 };
        assert_eq!(lines, expected, "{format}");
        let file = dir.join(format!("audit.{format}"));
        std::fs::write(&file, &page.body).unwrap();
        let (ok, said) = verify_offline(&file);
        assert!(ok && said.contains("ok: 301 rows, 300 links"), "{said}");

        // A byte changed in the file is caught offline too.
        let forged = page.body.replacen("reports/7.csv", "reports/8.csv", 1);
        std::fs::write(&file, forged).unwrap();
        let (ok, said) = verify_offline(&file);
        assert!(!ok, "{said}");
    }
    // Exports are audited, as the admin; others get 403.
    let exports: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where action = 'audit.export' and actor_id = $1",
    )
    .bind(user_id(&pool, "auditor@example.com").await)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(exports, 2);
    assert_eq!(user.get("/admin/audit/export?format=csv").await.status, 403);
    assert_eq!(
        admin.get("/admin/audit/export?format=xml").await.status,
        400
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn archiving_drops_whole_months_and_the_chain_goes_on(pool: PgPool) {
    // 500 rows three and two months ago, chained as the database would have (the trail is
    // empty, so they start from the genesis).
    sqlx::query(
        "select audit_partition(date_trunc('month', now()) - make_interval(months => m))
         from generate_series(2, 3) m",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(SEED).execute(&pool).await.unwrap();
    sqlx::query("select setval('audit_event_ids', 500)")
        .execute(&pool)
        .await
        .unwrap();
    rows(&pool, 5).await;
    assert_eq!(problem(&pool).await, None);

    let dir = std::env::temp_dir().join(format!("crossview-archive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_arg = dir.to_str().unwrap();
    let (ok, said) = operator(
        &pool,
        &["audit", "archive", "--before", "2999-01", "--to", dir_arg],
    );
    assert!(
        !ok && said.contains("only months before this one"),
        "{said}"
    );
    let this_month: String = sqlx::query_scalar("select to_char(now(), 'YYYY-MM')")
        .fetch_one(&pool)
        .await
        .unwrap();
    let (ok, said) = operator(
        &pool,
        &["audit", "archive", "--before", &this_month, "--to", dir_arg],
    );
    assert!(ok, "{said}");
    assert_eq!(
        said.matches("dropped from the database").count(),
        2,
        "{said}"
    );

    // The months are gone from the database, whole, and their files verify offline.
    let left: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'list_objects'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(left, 0);
    let mut archived = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        archived += std::fs::read_to_string(&path).unwrap().lines().count();
        let (ok, said) = verify_offline(&path);
        assert!(ok, "{said}");
    }
    assert_eq!(archived, 500);
    // each month's two shards each know where their remaining chain starts
    let anchors: Vec<(i16, i64)> = sqlx::query_as(
        "select shard, sum(rows)::bigint from audit_archives group by shard order by shard",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(anchors, [(0, 250), (1, 250)]);
    // The rest of the chain starts where the archive ends; the archive itself was audited.
    let report = verify(&pool).await.unwrap();
    assert_eq!((report.first_id, report.problem), (501, None));
    let (ok, said) = operator(
        &pool,
        &["audit", "archive", "--before", &this_month, "--to", dir_arg],
    );
    assert!(ok && said.contains("no month before"), "{said}");
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'audit.archive'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(audited, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// 500 rows spread over the months three and two back, in shards 0 and 1 (odd ids in 1),
/// chained from the genesis with the migration's own aggregate, and both heads moved to their
/// last rows.
const SEED: &str = "
with seeded as (
    select g as id, (g % 2)::smallint as shard,
           row_number() over (partition by g % 2 order by g) as seq,
           date_trunc('month', now()) - interval '3 months' + g * interval '2 hours' as at,
           null::bigint as actor_id, null::bigint as connection_id, null::text as account_id,
           'list_objects' as action, 'old' as bucket, 'k/' || g as key, 'ok' as outcome,
           'ok' as class, null::text as aws_request_id, '{}'::jsonb as detail
    from generate_series(1, 500) g
), chained as (
    select *, audit_chain_agg(audit_canonical(id, at, actor_id, connection_id, account_id,
                action, bucket, key, outcome, class, aws_request_id, detail))
              over (partition by shard order by id rows unbounded preceding) as hash
    from seeded
), inserted as (
    insert into audit_events (id, at, actor_id, connection_id, account_id, action, bucket, key,
                              outcome, class, aws_request_id, detail, prev_hash, hash, shard, seq)
    select id, at, actor_id, connection_id, account_id, action, bucket, key, outcome, class,
           aws_request_id, detail,
           coalesce(lag(hash) over (partition by shard order by id), '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea),
           hash, shard, seq
    from chained
    returning id, at, hash, shard, seq
)
update audit_chain set last_seq = l.seq, last_id = l.id, last_hash = l.hash, last_at = l.at
from (select distinct on (shard) * from inserted order by shard, id desc) l
where audit_chain.shard = l.shard";

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn csv_exports_defuse_formulas_keep_null_apart_from_empty_and_still_verify(pool: PgPool) {
    let mut admin = Browser::new(pool.clone(), false).await;
    admin.sign_up_admin("sheets@example.com", PASSWORD).await;
    let formula = "=HYPERLINK(\"http://evil.example\",\"open\")";
    for key in [
        formula, "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'quoted", "", "plain",
    ] {
        write(&pool, None, Activity::Download, "payroll", key, Outcome::Ok).await;
    }
    record(&pool, Event::new(Activity::Download, Outcome::Ok))
        .await
        .unwrap();
    let page = admin.get("/admin/audit/export?format=csv").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("\"'=HYPERLINK(\"\"http"),
        "{}",
        page.body
    );
    for defused in [
        "\"'+1\"",
        "\"'-1\"",
        "\"'@SUM(A1)\"",
        "\"'\tx\"",
        "\"''quoted\"",
    ] {
        assert!(page.body.contains(defused), "{defused} in {}", page.body);
    }
    assert!(page.body.contains(",\"plain\","), "{}", page.body);
    // The empty key is quoted; the row without a key or bucket has bare empty cells.
    assert!(page.body.contains(",\"payroll\",\"\","), "{}", page.body);
    assert!(page.body.contains(",,,\"ok\","), "{}", page.body);
    let dir = std::env::temp_dir().join(format!("crossview-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("audit.csv");
    std::fs::write(&file, &page.body).unwrap();
    let (ok, said) = verify_offline(&file);
    assert!(ok, "{said}");
    // Null and empty hash differently: the verifier must read them apart to pass.
    let swapped = page
        .body
        .replacen(",\"payroll\",\"\",", ",\"payroll\",,", 1);
    std::fs::write(&file, swapped).unwrap();
    let (ok, said) = verify_offline(&file);
    assert!(!ok, "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn share_link_opens_are_anonymous_not_the_operator_and_filter_apart(pool: PgPool) {
    let opened = Event {
        detail: Some(serde_json::json!({ "link": 7, "owner": 1 })),
        ..Event::new(Activity::ShareOpen, Outcome::Ok)
    };
    record(&pool, opened).await.unwrap();
    write(&pool, None, Activity::AdminGrant, "b-1", "k", Outcome::Ok).await;
    let by = |actor: &str| AuditFilter {
        actor: actor.into(),
        ..AuditFilter::default()
    };
    let everyone = search(&pool, &AuditFilter::default()).await.unwrap().rows;
    let actors: Vec<_> = everyone.iter().map(|r| r.actor.clone()).collect();
    assert_eq!(
        actors,
        [
            Some("operator".to_owned()),
            Some("anonymous (link 7)".to_owned())
        ]
    );
    for (kind, action) in [("anonymous", "share.open"), ("Operator", "admin.grant")] {
        let rows = search(&pool, &by(kind)).await.unwrap().rows;
        let actions: Vec<_> = rows.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, [action], "{kind}");
    }
    let kinds: Vec<String> = sqlx::query_scalar("select actor_kind from audit_events order by id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(kinds, ["anonymous", "operator"]);
}

/// Recomputes every row's hash in order and moves the head to the last: what someone who can
/// rewrite the whole table does after changing a row, so that the chain holds again.
const REHASH: &str = r"do $$
declare
    r record;
    prev bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
    h bytea;
begin
    for r in select * from audit_events order by id loop
        h := sha256(prev || audit_canonical(r.id, r.at, r.actor_id, r.connection_id,
            r.account_id, r.action, r.bucket, r.key, r.outcome, r.class, r.aws_request_id,
            r.detail));
        update audit_events set prev_hash = prev, hash = h where id = r.id;
        prev := h;
    end loop;
    update audit_chain set last_hash = prev where shard = 0;
end $$";

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn signed_digests_show_a_trail_cut_back_or_rewritten_whole(pool: PgPool) {
    let database = pool.connect_options().get_database().unwrap().to_owned();
    let dir = std::env::temp_dir().join(format!("crossview-digests-{database}"));
    let _ = std::fs::remove_dir_all(&dir);
    let key = "d".repeat(40);
    let dir_text = dir.to_str().unwrap();
    let env = [
        ("AUDIT_DIGEST_KEY", key.as_str()),
        ("AUDIT_DIGEST_DIR", dir_text),
    ];
    rows(&pool, 5).await;
    let (ok, said) = operator_with(&pool, &["audit", "digest"], &env);
    assert!(
        ok && said.contains("audit-digest-000000000005.json"),
        "{said}"
    );
    rows(&pool, 3).await;
    let (ok, said) = operator_with(&pool, &["audit", "digest"], &env);
    assert!(
        ok && said.contains("audit-digest-000000000008.json"),
        "{said}"
    );
    let (ok, said) = operator_with(&pool, &["audit", "verify", "--against", dir_text], &env);
    // two digests of four heads each; shard 0's two heads have rows to compare
    assert!(ok && said.contains("2 of the 8 heads pinned"), "{said}");
    // The verify's own row names the head it checked.
    let head: serde_json::Value =
        sqlx::query_scalar("select detail->'head' from audit_events where action = 'audit.verify'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(head["last_id"], 8, "{head}");

    let signer = AuditDigest {
        key: key.clone().into(),
        dir: dir.clone(),
        every: std::time::Duration::from_secs(3600),
    };
    let pins = digest::read(&signer, &dir).unwrap();
    let pin = |id: i64| {
        pins.iter()
            .find(|p| p.head.last_id == id)
            .unwrap()
            .at
            .clone()
    };

    // Cut back, head and all: rows 7 on gone and the head moved to row 6. The chain alone
    // holds; the digest of row 8 does not.
    tamper(&pool, "delete from audit_events where id >= 7").await;
    tamper(
        &pool,
        "update audit_chain set last_seq = 6, last_id = 6,
                last_hash = (select hash from audit_events where id = 6)
         where shard = 0",
    )
    .await;
    assert_eq!(problem(&pool).await, None);
    assert_eq!(
        verify_against(&pool, &pins).await.unwrap().problem,
        Some(ChainBreak::RemovedSince {
            after: 6,
            to: 8,
            at: pin(8)
        })
    );

    // Rewritten whole: row 3 changed, every hash after it recomputed, the head moved along.
    tamper(
        &pool,
        "update audit_events set key = 'reports/rewritten.csv' where id = 3",
    )
    .await;
    tamper(&pool, REHASH).await;
    assert_eq!(
        problem(&pool).await,
        None,
        "the rewritten chain holds by itself"
    );
    assert_eq!(
        verify_against(&pool, &pins).await.unwrap().problem,
        Some(ChainBreak::Rewritten { id: 5, at: pin(5) })
    );
    let (ok, said) = operator_with(&pool, &["audit", "verify", "--against", dir_text], &env);
    assert!(
        !ok && said.contains("row 5 is not the row the digest"),
        "{said}"
    );

    // A digest edited by hand, or checked with another key, is refused by its signature.
    let file = dir.join("audit-digest-000000000005.json");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("\"last_id\":5", "\"last_id\":4")).unwrap();
    let (ok, said) = operator_with(&pool, &["audit", "verify", "--against", dir_text], &env);
    assert!(!ok && said.contains("signature does not match"), "{said}");
    let other = "e".repeat(40);
    let env = [
        ("AUDIT_DIGEST_KEY", other.as_str()),
        ("AUDIT_DIGEST_DIR", dir_text),
    ];
    let (ok, said) = operator_with(&pool, &["audit", "verify", "--against", dir_text], &env);
    assert!(!ok && said.contains("signature does not match"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_serving_role_appends_to_the_trail_and_can_change_nothing_of_it(pool: PgPool) {
    use sqlx::{Connection, PgConnection};
    let options = pool.connect_options();
    let database = options.get_database().unwrap().to_owned();
    // Unquoted names are folded to lower case; at most 63 characters.
    let tail: String = database.chars().rev().take(24).collect();
    let role = format!("serving_{}", tail.to_lowercase());
    sqlx::query(&format!("create role {role} login password 'serving-only'"))
        .execute(&pool)
        .await
        .unwrap();
    rows(&pool, 3).await;
    let (host, port) = (options.get_host().to_owned(), options.get_port());
    let serving_url = format!("postgres://{role}:serving-only@{host}:{port}/{database}");
    let owner_url = std::env::var("DATABASE_URL").unwrap();
    let owner_url = format!("{}/{database}", owner_url.rsplit_once('/').unwrap().0);

    // Before `server migrate` grants it anything, the serving role cannot even read the trail.
    let mut serving = PgConnection::connect(&serving_url).await.unwrap();
    assert!(sqlx::query("select 1 from audit_events")
        .execute(&mut serving)
        .await
        .is_err());
    let env = [
        ("DATABASE_URL", serving_url.as_str()),
        ("MIGRATION_DATABASE_URL", owner_url.as_str()),
    ];
    let (ok, said) = operator_with(&pool, &["migrate"], &env);
    assert!(ok, "{said}");

    // It reads the trail and appends to it, through the owner's function.
    let n: i64 = sqlx::query_scalar("select count(*) from audit_events")
        .fetch_one(&mut serving)
        .await
        .unwrap();
    assert_eq!(n, 3);
    let appended: i64 = sqlx::query_scalar(
        "select audit_append(null, null, 'download', 'b', 'k', 'ok', 'ok', null, '{}')",
    )
    .fetch_one(&mut serving)
    .await
    .unwrap();
    assert_eq!(appended, 4);

    // Everything else on the trail, its head and its archives is refused.
    let partition: String = sqlx::query_scalar(
        "select inhrelid::regclass::text from pg_inherits
         where inhparent = 'audit_events'::regclass limit 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    for attempt in [
        "update audit_events set key = 'rewritten' where id = 1".to_owned(),
        "delete from audit_events where id = 1".to_owned(),
        "truncate audit_events".to_owned(),
        format!("truncate {partition}"),
        format!("delete from {partition}"),
        format!("alter table audit_events detach partition {partition}"),
        "alter table audit_events disable trigger audit_events_append_only".to_owned(),
        "update audit_chain set last_id = 1".to_owned(),
        "update audit_settings set shards = 1".to_owned(),
        "select audit_set_shards(1::smallint)".to_owned(),
        "select nextval('audit_event_ids')".to_owned(),
        "insert into audit_events (id, at, action, outcome, class, prev_hash, hash)
         values (99, now(), 'x', 'ok', 'ok', '\\x00', '\\x00')"
            .to_owned(),
        "insert into audit_archives (month, first_id, last_id, last_hash, rows, file, file_sha256)
         values ('2020-01-01', 1, 1, '\\x00', 1, 'f', 'h')"
            .to_owned(),
        "drop table audit_events".to_owned(),
        "create or replace function audit_field(v text) returns text
         language sql as $$ select '' $$"
            .to_owned(),
        format!("select crossview_grant_serving('{role}')"),
    ] {
        let refused = sqlx::query(&attempt).execute(&mut serving).await;
        let err = refused.expect_err(&attempt).to_string();
        assert!(
            err.contains("permission denied") || err.contains("must be owner"),
            "{attempt}: {err}"
        );
    }
    serving.close().await.unwrap();
    assert_eq!(problem(&pool).await, None);

    // The whole server serves as that role: it starts on the migrated schema, signs a user in
    // (sessions, limits) and the operator's verify appends its row through the function.
    Browser::new(pool.clone(), false)
        .await
        .sign_up("served@example.com", PASSWORD)
        .await;
    let server = crate::support::Served::spawn(&serving_url, &[])
        .listening()
        .await;
    let cookie = server.sign_in("served@example.com").await;
    assert!(cookie.contains('='), "{cookie}");
    drop(server);
    let env = [("DATABASE_URL", serving_url.as_str())];
    let (ok, said) = operator_with(&pool, &["audit", "verify"], &env);
    assert!(ok && said.contains("the audit chain holds"), "{said}");
    // Archiving needs the owner: as the serving role alone it is refused, and nothing is lost.
    let (ok, said) = operator_with(&pool, &["audit", "archive", "--before", "2999-01"], &env);
    assert!(!ok, "{said}");
    assert_eq!(problem(&pool).await, None);

    sqlx::query(&format!("drop owned by {role}"))
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(&format!("drop role {role}"))
        .execute(&pool)
        .await
        .unwrap();
}
