//! Searches, exports (JSON lines and CSV) and archiving.

use super::*;

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
