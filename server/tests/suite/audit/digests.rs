//! Signed digests, and a serving database role that can append but change nothing.

use super::*;

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
