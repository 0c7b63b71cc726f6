//! What the pages people live in rely on: a read-only connection refuses every change before
//! AWS (and says so in its listings), "everything in this folder" deletes exactly that, a
//! running verification can be followed step by step, old audit names are found under new
//! ones, and a share link's landing page says what it is.

use app::{
    audit::{
        ssr::{search, verify as verify_chain},
        AuditFilter,
    },
    aws::PROBE_KEY,
    browse::{ssr as browse, unchangeable, ReadOnly},
    connections::ssr::{self as connections, verify::progress},
    error::AppError,
    grants::ssr as grants,
    iam::Action,
    objects::{confirmation_text, ssr as objects},
    shares::LinkStatus,
};
use sqlx::PgPool;

use crate::support::standin::{
    assumptions, connected, connection_with_role, folder, keys_under, last_policy, put_object,
    verify, READ_ALL, READ_WRITE,
};

/// How many of `connection`'s audit rows match `condition` (a fixed SQL condition).
async fn audited(pool: &PgPool, connection: i64, condition: &str) -> i64 {
    sqlx::query_scalar(&format!(
        "select count(*) from audit_events where connection_id = $1 and {condition}"
    ))
    .bind(connection)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_read_only_connection_refuses_every_change_before_aws(pool: PgPool) {
    // The role itself may write: only the owner's choice holds Crossview back.
    let (state, user, c) = connected(&pool, "owner-chose-read-only", READ_WRITE).await;
    let base = folder("ro");
    put_object("cv-work", &format!("{base}kept.txt"));
    connections::set_access(&pool, user, c.id, true)
        .await
        .unwrap();
    assert!(connections::get(&pool, user, c.id).await.unwrap().read_only);

    let listing = browse::objects(&state, user, c.id, "cv-work", (&base, 100), None)
        .await
        .unwrap();
    assert_eq!(
        listing.read_only,
        Some(ReadOnly::Chosen),
        "the folder page is told, to offer no change"
    );
    assert_eq!(
        unchangeable(listing.read_only, listing.within.as_ref()),
        Some("This connection is read-only")
    );

    let made = objects::create_folder(&state, user, c.id, "cv-work", &base, "new").await;
    assert_eq!(made.unwrap_err(), AppError::ReadOnlyConnection);
    let chosen = objects::Chosen {
        within: &base,
        keys: &[format!("{base}kept.txt")],
        folders: &[],
    };
    let removed = objects::delete(&state, user, c.id, "cv-work", chosen, "").await;
    assert_eq!(removed.unwrap_err(), AppError::ReadOnlyConnection);
    assert_eq!(keys_under("cv-work", &base), [format!("{base}kept.txt")]);
    // Refused before AWS, and on the trail as refused.
    let refused = audited(
        &pool,
        c.id,
        "outcome = 'ReadOnlyConnection' and class = 'refused'",
    )
    .await;
    assert_eq!(refused, 2);
    let sent = assumptions("owner-chose-read-only", async {
        let made = objects::create_folder(&state, user, c.id, "cv-work", &base, "new").await;
        assert_eq!(made, Err(AppError::ReadOnlyConnection));
        Ok::<_, AppError>(())
    })
    .await;
    assert_eq!(sent, 0, "no AssumeRole for a change Crossview refuses");

    // Read-write again: the same change goes through.
    connections::set_access(&pool, user, c.id, false)
        .await
        .unwrap();
    let made = objects::create_folder(&state, user, c.id, "cv-work", &base, "new").await;
    assert_eq!(made.unwrap(), format!("{base}new/"));
    let access: Vec<String> = sqlx::query_scalar(
        "select detail->>'access' from audit_events
         where connection_id = $1 and action = 'connection.set_access' order by id",
    )
    .bind(c.id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(access, ["read-only", "read-write"]);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn the_check_learns_where_the_role_may_write_and_writes_nothing(pool: PgPool) {
    // The owner left it read-write; the role may only read.
    let (state, user, c) = connected(&pool, "reads-only-in-fact", READ_ALL).await;
    let c = connections::get(&pool, user, c.id).await.unwrap();
    assert!(!c.read_only);
    assert_eq!(c.writes.allowed, 0, "{:?}", c.writes);
    assert!(
        c.writes.refused.contains(&"cv-work/".to_owned()),
        "{:?}",
        c.writes
    );
    assert!(c
        .writes
        .summary()
        .starts_with("Nowhere: AWS refuses writes in "));
    let base = folder("learned");
    let listing = browse::objects(&state, user, c.id, "cv-work", (&base, 100), None)
        .await
        .unwrap();
    assert_eq!(listing.read_only, Some(ReadOnly::Learned));
    assert_eq!(
        unchangeable(listing.read_only, None),
        Some("The last connection check found that this role may not write here")
    );
    // What was learned may be stale: AWS has the last word, and says what is missing.
    let made = objects::create_folder(&state, user, c.id, "cv-work", &base, "new").await;
    assert!(
        matches!(
            made,
            Err(AppError::Denied {
                action: Action::PutObject,
                ..
            })
        ),
        "{made:?}"
    );

    // A role that may write: learned everywhere, and the probe wrote nothing.
    let (state, user, c) = connected(&pool, "writes-in-fact", READ_WRITE).await;
    // The probe's session policy lets it list buckets and put its one key, nothing else.
    let policy = last_policy(c.role_arn.as_deref().unwrap()).await;
    assert_eq!(
        policy["Statement"][1]["Resource"],
        format!("arn:aws:s3:::*/{PROBE_KEY}")
    );
    assert_eq!(
        policy["Statement"][1]["Action"],
        serde_json::json!(["s3:PutObject"])
    );
    let c = connections::get(&pool, user, c.id).await.unwrap();
    assert!(c.writes.refused.is_empty(), "{:?}", c.writes);
    assert!(c.writes.allowed >= 6, "every seeded bucket: {:?}", c.writes);
    let listing = browse::objects(&state, user, c.id, "cv-work", (&base, 100), None)
        .await
        .unwrap();
    assert_eq!(listing.read_only, None);
    assert!(keys_under("cv-work", "")
        .iter()
        .all(|key| !key.ends_with(PROBE_KEY)));
    let probes = audited(
        &pool,
        c.id,
        "action = 'connection.probe_writes' and outcome = 'ok'",
    )
    .await;
    assert_eq!(probes, 1, "one assumption for the whole probe, audited");

    // A role that may write under one prefix only is judged there through a location on it.
    let inbox = folder("inbox");
    let only_inbox = format!(
        r#"{{"Version":"2012-10-17","Statement":[
          {{"Effect":"Allow","Action":["s3:ListAllMyBuckets","s3:ListBucket","s3:GetObject"],"Resource":"*"}},
          {{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::cv-work/{inbox}*"}}]}}"#
    );
    let c = connection_with_role(&state, user, "writes-in-inbox", None, Some(&only_inbox)).await;
    let checked = verify(&state, user, &c).await;
    assert_eq!(checked.writes.allowed, 0, "judged at each bucket's root");
    grants::add(&pool, user, c.id, "cv-work", &inbox, true)
        .await
        .unwrap();
    grants::add(&pool, user, c.id, "cv-work", &base, true)
        .await
        .unwrap();
    let checked = verify(&state, user, &c).await;
    assert_eq!(checked.writes.allowed, 1, "{:?}", checked.writes);
    assert_eq!(checked.writes.refused, [format!("cv-work/{base}")]);
    let inside = browse::objects(&state, user, c.id, "cv-work", (&inbox, 100), None)
        .await
        .unwrap();
    assert_eq!(inside.read_only, None);
    let outside = browse::objects(&state, user, c.id, "cv-work", (&base, 100), None)
        .await
        .unwrap();
    assert_eq!(outside.read_only, Some(ReadOnly::Learned));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn everything_in_a_folder_goes_on_its_typed_confirmation_and_nothing_beside_it(pool: PgPool) {
    let (state, user, c) = connected(&pool, "empties-a-folder", READ_WRITE).await;
    let parent = folder("all");
    let inside = format!("{parent}photos/");
    let beside = format!("{parent}photos-kept/");
    // More than one page of the folder, nested keys and odd names among them.
    for i in 0..120 {
        put_object("cv-work", &format!("{inside}{i:03} ✓ +%.jpg"));
    }
    put_object("cv-work", &format!("{inside}deep/<script>.txt"));
    put_object("cv-work", &format!("{beside}stays.txt"));
    let page = browse::objects(&state, user, c.id, "cv-work", (&inside, 100), None)
        .await
        .unwrap();
    assert_eq!(page.objects.len() + page.folders.len(), 100);
    assert!(page.next.is_some(), "more than one page");

    let expected = confirmation_text(&inside, std::slice::from_ref(&inside));
    assert_eq!(expected, "everything in photos");
    let everything = [inside.clone()];
    let chosen = || objects::Chosen {
        within: &inside,
        keys: &[],
        folders: &everything,
    };
    let wrong = objects::delete(&state, user, c.id, "cv-work", chosen(), "photos").await;
    assert_eq!(wrong.unwrap_err(), AppError::ConfirmationMismatch);
    assert_eq!(keys_under("cv-work", &inside).len(), 121);

    let report = objects::delete(&state, user, c.id, "cv-work", chosen(), &expected)
        .await
        .unwrap();
    assert_eq!((report.done, report.failed.len()), (121, 0));
    assert!(keys_under("cv-work", &inside).is_empty());
    assert_eq!(
        keys_under("cv-work", &beside),
        [format!("{beside}stays.txt")]
    );

    // The folder itself goes only alone: with other keys it is refused as malformed.
    let mixed = objects::Chosen {
        within: &inside,
        keys: &[format!("{inside}x")],
        folders: &everything,
    };
    let refused = objects::delete(&state, user, c.id, "cv-work", mixed, &expected).await;
    assert_eq!(refused.unwrap_err(), AppError::KeyInvalid);
    assert_eq!(
        confirmation_text("", &[String::new()]),
        "everything in this bucket"
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_running_verification_can_be_followed_step_by_step(pool: PgPool) {
    let (state, user, c) = connected(&pool, "followed-verification", READ_WRITE).await;
    assert_eq!(progress(&state, user, c.id).await.unwrap(), None);
    // A role that does not exist is refused until the propagation wait is over.
    let mut config = (*state.config).clone();
    config.verify_propagation = std::time::Duration::from_secs(3);
    let state = app::state::AppState {
        config: std::sync::Arc::new(config),
        ..state
    };
    let arn =
        app::connections::parse_role_arn("arn:aws:iam::123456789012:role/not-created-yet-followed")
            .unwrap();
    connections::set_role(&pool, user, c.id, &arn)
        .await
        .unwrap();
    let running = tokio::spawn({
        let state = state.clone();
        async move { connections::verify::verify(&state, user, c.id).await }
    });
    let mut seen = Vec::new();
    while !running.is_finished() {
        if let Some(now) = progress(&state, user, c.id).await.unwrap() {
            assert_eq!(now.wait_secs, 3);
            assert!(now.elapsed_secs <= 4, "{now:?}");
            if seen.last() != Some(&now.step) {
                seen.push(now.step);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let ended = running.await.unwrap().unwrap();
    assert_eq!(ended.status, app::connections::Status::Failed);
    // The first step passes in a moment; the wait for AWS is what a poll sees.
    assert!(seen.iter().any(|s| s == "propagating"), "{seen:?}");
    let known = [
        "assume",
        "propagating",
        "account",
        "wrong_external_id",
        "without_external_id",
    ];
    assert!(seen.iter().all(|s| known.contains(&s.as_str())), "{seen:?}");
    assert_eq!(progress(&state, user, c.id).await.unwrap(), None, "cleared");
    // Someone else's connection is not there for them.
    let other = crate::support::standin::owner(&pool, "curious@example.com").await;
    assert_eq!(
        progress(&state, other, c.id).await.unwrap_err(),
        AppError::NotFound
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn old_audit_names_are_shown_and_found_under_the_new_ones(pool: PgPool) {
    for action in ["list_objects", "object.list", "share.create"] {
        sqlx::query("select audit_append(null, null, $1, 'b', 'k', 'ok', 'ok', null, '{}')")
            .bind(action)
            .execute(&pool)
            .await
            .unwrap();
    }
    let filter = AuditFilter {
        action: "object.list".into(),
        ..Default::default()
    };
    let page = search(&pool, &filter).await.unwrap();
    let actions: Vec<&str> = page.rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["object.list", "object.list"]);
    // The old row keeps its bytes: the chain still holds.
    let stored: Vec<String> = sqlx::query_scalar("select action from audit_events order by id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(stored, ["list_objects", "object.list", "share.create"]);
    assert_eq!(verify_chain(&pool).await.unwrap().problem, None);
    let all = search(&pool, &AuditFilter::default()).await.unwrap();
    assert!(all.rows.iter().all(|r| r.action.contains('.')));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_share_links_landing_page_says_what_it_is_and_when_it_stops(pool: PgPool) {
    let (state, user, c) = connected(&pool, "shares-a-page", READ_WRITE).await;
    let base = folder("landing");
    let key = format!("{base}report 2026 ✓.pdf");
    put_object("cv-work", &key);
    let target = app::aws::access::Target::new(&state, user, c.id, "cv-work", &key).unwrap();
    let link = app::shares::ssr::create(&target, &crate::support::share_for(2, false))
        .await
        .unwrap();
    let token = link.path.strip_prefix("/s/").unwrap();

    let file = app::shares::ssr::landing(
        &state,
        token,
        &app::shares::ssr::Holder {
            address: Some("192.0.2.9"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(file.name, "report 2026 ✓.pdf");
    assert_eq!(file.shared_by, "shares-a-page@example.com");
    assert_eq!(file.status, LinkStatus::Live);
    assert!(file.size.is_some_and(|s| s > 0), "{file:?}");
    // The same instant, as Postgres keeps it (microseconds).
    let stored = file.expires_at.clone().unwrap();
    let stored = stored.trim_end_matches('Z');
    let made = link.expires_at.unwrap();
    assert!(made.starts_with(stored), "{stored} {made}");
    // The landing page asks AWS nothing and writes nothing on the trail.
    let rows: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'share.open'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(rows, 0);

    sqlx::query("update share_links set revoked_at = now()")
        .execute(&pool)
        .await
        .unwrap();
    let revoked = app::shares::ssr::landing(&state, token, &Default::default())
        .await
        .unwrap();
    assert_eq!(revoked.status, LinkStatus::Revoked);
    sqlx::query(
        "update share_links set revoked_at = null, expires_at = now() - interval '1 minute'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let expired = app::shares::ssr::landing(&state, token, &Default::default())
        .await
        .unwrap();
    assert_eq!(expired.status, LinkStatus::Expired);
    let unknown = app::shares::ssr::landing(
        &state,
        &"0".repeat(64),
        &app::shares::ssr::Holder {
            address: Some("192.0.2.9"),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(unknown.unwrap_err(), AppError::NotFound);
}
