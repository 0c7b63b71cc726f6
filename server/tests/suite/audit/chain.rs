//! The hash chain: whole under concurrent writers, and every kind of tampering shown.

use super::*;

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
