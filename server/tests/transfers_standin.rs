//! Transfers against the AWS stand-in in strict mode: what Crossview signs, for which key, on
//! which assumed session, and what a role without the permission is told. (The stand-in's own
//! checks of presigned URLs are proven in aws_standin.rs; the browser tests fetch them.)

mod support;

use app::{
    browse::location,
    error::{AppError, AwsProblem},
    objects::ssr as objects,
    shares::ssr as shares,
    transfers,
    transfers::{ssr as transfer, ssr::Target, UploadPlan},
};
use sqlx::PgPool;
use support::standin::{
    assume_role_seen, assumptions, browser_with_connection, connected, keys_under, put_object,
    LIST_ONLY, READ_ALL, READ_WRITE, VERSIONS,
};

/// The session policy the stand-in last saw for `role`, parsed.
async fn last_policy(role: &str) -> serde_json::Value {
    let seen = assume_role_seen(role).await;
    serde_json::from_str(seen["policy"].as_str().unwrap()).unwrap()
}

/// The query parameters of a URL, decoded.
fn query(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A folder of its own in `cv-work` for each test run.
fn folder(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{nanos}/")
}

#[sqlx::test(migrator = "app::state::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_download_is_signed_for_one_key_on_one_fresh_session(pool: PgPool) {
    let (state, user, c) = connected(&pool, "downloader", READ_ALL).await;
    let role = c.role_arn.clone().unwrap();
    let key = "odd/ünïcødé — 日本語.txt";

    let calls = assumptions(&role, async {
        let target = Target::new(&state, user, c.id, "cv-mixed", key)?;
        let url = transfer::download_url(&target, None).await?;
        let pairs = query(&url);
        assert!(
            url.contains("/cv-mixed/odd/"),
            "path-style, the key in the path: {url}"
        );
        assert_eq!(param(&pairs, "X-Amz-Expires"), Some("600"), "10 minutes");
        assert!(param(&pairs, "X-Amz-Signature").is_some_and(|s| s.len() == 64));
        assert_eq!(
            param(&pairs, "response-content-disposition"),
            Some(transfers::attachment("ünïcødé — 日本語.txt").as_str()),
            "saved under its own name"
        );
        Ok::<_, AppError>(())
    })
    .await;
    assert_eq!(calls, 1, "one assumption for one link");

    // The session that signed it could read that one key and nothing else, and lasts at least
    // as long as the link (AWS's 900-second minimum here).
    let seen = assume_role_seen(&role).await;
    let policy: serde_json::Value = serde_json::from_str(seen["policy"].as_str().unwrap()).unwrap();
    assert_eq!(
        policy["Statement"],
        serde_json::json!([{
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": format!("arn:aws:s3:::cv-mixed/{key}"),
        }])
    );
    assert_eq!(seen["duration"], "900");

    let gone = Target::new(&state, user, c.id, "cv-mixed", "odd/not there").unwrap();
    let gone = transfer::download_url(&gone, None).await;
    assert_eq!(
        gone.unwrap_err(),
        AppError::Aws(app::error::AwsProblem::ObjectNotFound)
    );
}

#[sqlx::test(migrator = "app::state::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_role_without_get_object_gets_no_link_and_is_told_why(pool: PgPool) {
    let (state, user, c) = connected(&pool, "no-download", LIST_ONLY).await;
    let key = "walk/one/two/three/report.csv";
    let target = Target::new(&state, user, c.id, "cv-mixed", key).unwrap();
    let err = transfer::download_url(&target, None).await.unwrap_err();
    assert_eq!(
        err,
        AppError::Denied {
            action: "s3:GetObject".into(),
            resource: format!("arn:aws:s3:::cv-mixed/{key}"),
        }
    );
}

#[sqlx::test(migrator = "app::state::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn the_download_link_redirects_to_s3_or_back_with_the_reason(pool: PgPool) {
    let (mut browser, c) = browser_with_connection(&pool, "clicker", READ_ALL).await;
    let key = "odd/a+b=c.txt";
    let page = browser
        .get(&transfers::download_href(c.id, "cv-mixed", key))
        .await;
    assert_eq!(page.status, 302, "{}", page.body);
    let location = page.location();
    assert!(location.starts_with("http://127.0.0.1:"), "{location}");
    assert!(location.contains("X-Amz-Signature="), "{location}");
    assert!(
        location.contains("/cv-mixed/odd/a%2Bb%3Dc.txt?"),
        "{location}"
    );

    // A refusal returns to the object's page, which explains it.
    let (mut browser, c) = browser_with_connection(&pool, "clicker-denied", LIST_ONLY).await;
    let page = browser
        .get(&transfers::download_href(c.id, "cv-mixed", key))
        .await;
    assert_eq!(page.status, 302);
    let back = location::object_href(c.id, "cv-mixed", key);
    assert_eq!(page.location(), format!("{back}&error=Denied"));
}

#[sqlx::test(migrator = "app::state::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn uploads_are_signed_for_one_key_and_refused_without_put_object(pool: PgPool) {
    let (state, user, c) = connected(&pool, "uploader", READ_WRITE).await;
    let role = c.role_arn.clone().unwrap();
    let key = format!("{}ünï + space.txt", folder("up"));
    let target = Target::new(&state, user, c.id, "cv-work", &key).unwrap();

    let plan = transfer::start_upload(&target, 1234, "text/plain")
        .await
        .unwrap();
    let UploadPlan::Single { url, content_type } = plan else {
        panic!("a small file is one PUT: {plan:?}");
    };
    assert_eq!(content_type, "text/plain");
    let pairs = query(&url);
    assert!(param(&pairs, "X-Amz-SignedHeaders").is_some_and(|h| h.contains("content-type")));
    assert_eq!(param(&pairs, "X-Amz-Expires"), Some("600"));
    let policy = last_policy(&role).await;
    assert_eq!(
        policy["Statement"][0]["Action"],
        serde_json::json!(["s3:PutObject"])
    );
    assert_eq!(
        policy["Statement"][0]["Resource"],
        format!("arn:aws:s3:::cv-work/{key}")
    );

    // Large: a multipart upload, created on S3, its part URLs signed in batches, then aborted.
    let calls = assumptions(&role, async {
        transfer::start_upload(&target, 40 << 20, "")
            .await
            .map(|_| ())
    })
    .await;
    assert_eq!(calls, 1);
    let plan = transfer::start_upload(&target, 40 << 20, "").await.unwrap();
    let UploadPlan::Multipart {
        upload_id,
        part_size,
        parts,
        parallel,
    } = plan
    else {
        panic!("a 40 MiB file is multipart: {plan:?}");
    };
    assert_eq!((part_size, parts, parallel), (8 << 20, 5, 4));
    let urls = transfer::part_urls(&target, &upload_id, 1, 5)
        .await
        .unwrap();
    assert_eq!(urls.len(), 5);
    for (n, url) in urls.iter().enumerate() {
        let pairs = query(url);
        assert_eq!(
            param(&pairs, "partNumber"),
            Some((n + 1).to_string().as_str())
        );
        assert_eq!(param(&pairs, "uploadId"), Some(upload_id.as_str()));
    }
    assert_eq!(
        transfer::part_urls(&target, &upload_id, 10_000, 2)
            .await
            .unwrap_err(),
        AppError::Request("part numbers run from 1 to 10000".into())
    );
    transfer::abort_upload(&target, &upload_id).await.unwrap();

    // A reader may not upload: the multipart upload is refused by S3, naming the permission.
    let (state, user, c) = connected(&pool, "reader-no-upload", READ_ALL).await;
    let target = Target::new(&state, user, c.id, "cv-work", &key).unwrap();
    assert_eq!(
        transfer::start_upload(&target, 40 << 20, "")
            .await
            .unwrap_err(),
        AppError::Denied {
            action: "s3:PutObject".into(),
            resource: format!("arn:aws:s3:::cv-work/{key}"),
        }
    );
}

#[sqlx::test(migrator = "app::state::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn folders_are_created_moved_and_deleted_and_a_refusal_loses_nothing(pool: PgPool) {
    let (state, user, c) = connected(&pool, "organiser", READ_WRITE).await;
    let base = folder("org");
    let made =
        objects::create_folder(&state, user, c.id, "cv-work", &base[..base.len() - 1], "/x").await;
    assert_eq!(made.unwrap_err(), AppError::FolderNameInvalid);
    let root = objects::create_folder(
        &state,
        user,
        c.id,
        "cv-work",
        "",
        base.trim_end_matches('/'),
    )
    .await
    .unwrap();
    assert_eq!(root, base);
    let album = objects::create_folder(&state, user, c.id, "cv-work", &base, "album ✓")
        .await
        .unwrap();
    for name in ["a.txt", "deep/b.txt", "deep/er/c +%#?.txt"] {
        put_object("cv-work", &format!("{album}{name}"));
    }
    let before = keys_under("cv-work", &album);
    assert_eq!(before.len(), 4, "the marker and three objects: {before:?}");

    // A role that may read but not write: the move copies nothing, deletes nothing.
    let (reader_state, reader, rc) = connected(&pool, "organiser-reader", READ_ALL).await;
    let report = objects::copy(
        &reader_state,
        reader,
        rc.id,
        "cv-work",
        &album,
        &format!("{base}moved/"),
        true,
    )
    .await
    .unwrap();
    assert_eq!(report.done, 0);
    assert_eq!(report.failed.len(), 4);
    assert_eq!(keys_under("cv-work", &album), before);

    // The owner's role moves the folder: every key below it goes, nested ones too.
    let moved = format!("{base}moved/");
    let report = objects::copy(&state, user, c.id, "cv-work", &album, &moved, true)
        .await
        .unwrap();
    assert_eq!((report.done, report.failed.len()), (4, 0));
    assert!(keys_under("cv-work", &album).is_empty());
    let after = keys_under("cv-work", &moved);
    assert_eq!(
        after,
        before
            .iter()
            .map(|k| app::objects::destination(k, &album, &moved))
            .collect::<Vec<_>>()
    );

    // One object is renamed on its own (a HEAD, no listing), odd characters and all.
    let one = format!("{moved}deep/er/c +%#?.txt");
    let renamed = format!("{moved}renamed ✓.txt");
    let report = objects::copy(&state, user, c.id, "cv-work", &one, &renamed, true)
        .await
        .unwrap();
    assert_eq!((report.done, report.failed.len()), (1, 0));
    let now = keys_under("cv-work", &moved);
    assert!(now.contains(&renamed) && !now.contains(&one), "{now:?}");

    // Deleting a folder needs its name typed; then everything under it goes.
    let folders = [moved.clone()];
    let chosen = || objects::Chosen {
        within: &base,
        keys: &[],
        folders: &folders,
    };
    let refused = objects::delete(&state, user, c.id, "cv-work", chosen(), "yes").await;
    assert_eq!(refused.unwrap_err(), AppError::ConfirmationMismatch);
    let report = objects::delete(&state, user, c.id, "cv-work", chosen(), "moved")
        .await
        .unwrap();
    assert_eq!(
        (report.done, report.failed.len()),
        (4, 0),
        "the marker and three objects"
    );
    assert!(keys_under("cv-work", &moved).is_empty());

    // Keys outside the folder acted in are refused before AWS is asked.
    let outside = ["cv-elsewhere.txt".to_owned()];
    let sneaky = objects::Chosen {
        within: &base,
        keys: &outside,
        folders: &[],
    };
    assert_eq!(
        objects::delete(&state, user, c.id, "cv-work", sneaky, "")
            .await
            .unwrap_err(),
        AppError::KeyInvalid
    );
}

#[sqlx::test(migrator = "app::state::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn share_links_open_until_revoked_or_expired_and_every_use_is_audited(pool: PgPool) {
    let (state, user, c) = connected(&pool, "sharer", READ_ALL).await;
    let key = "walk/one/two/three/report.csv";
    let target = Target::new(&state, user, c.id, "cv-mixed", key).unwrap();
    assert!(shares::create(&target, 0).await.is_err());
    assert!(shares::create(&target, 7 * 24 + 1).await.is_err());
    let link = shares::create(&target, 24).await.unwrap();
    let token = link.path.strip_prefix("/s/").unwrap();
    assert_eq!(token.len(), 64);
    // Only the hash is kept: the token itself is nowhere in the database.
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from share_links where token_hash = sha256($1::text::bytea)",
    )
    .bind(token)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 1);

    let url = shares::open(&state, token).await.unwrap();
    assert!(url.contains("X-Amz-Signature="), "{url}");
    assert!(url.contains("response-content-disposition="), "{url}");

    let links = shares::list(&pool, user).await.unwrap();
    assert_eq!(links.len(), 1);
    assert!(!links[0].revoked && !links[0].expired);
    let other = support::standin::owner(&pool, "not-the-sharer@example.com").await;
    assert_eq!(
        shares::revoke(&pool, other, links[0].id).await.unwrap_err(),
        AppError::NotFound
    );
    shares::revoke(&pool, user, links[0].id).await.unwrap();
    assert_eq!(
        shares::open(&state, token).await.unwrap_err(),
        AppError::ShareLinkGone
    );

    let second = shares::create(&target, 1).await.unwrap();
    let second = second.path.strip_prefix("/s/").unwrap();
    sqlx::query(
        "update share_links set expires_at = now() - interval '1 second' where revoked_at is null",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        shares::open(&state, second).await.unwrap_err(),
        AppError::ShareLinkGone
    );
    assert_eq!(
        shares::open(&state, &"0".repeat(64)).await.unwrap_err(),
        AppError::NotFound
    );

    let outcomes: Vec<String> = sqlx::query_scalar(
        "select outcome from audit_events where action = 'share.open' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(outcomes, ["ok", "revoked", "expired", "unknown"]);

    // A link whose object went away says so, and is audited as such.
    let gone = Target::new(&state, user, c.id, "cv-mixed", "odd/not there").unwrap();
    assert_eq!(
        shares::create(&gone, 1).await.unwrap_err(),
        AppError::Aws(AwsProblem::ObjectNotFound)
    );
}

#[sqlx::test(migrator = "app::state::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn versions_are_listed_downloaded_and_restored(pool: PgPool) {
    let (state, user, c) = connected(&pool, "versioner", VERSIONS).await;
    let role = c.role_arn.clone().unwrap();
    let target = Target::new(&state, user, c.id, "cv-versions", "doc.txt").unwrap();
    let list = objects::versions(&target).await.unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(list[0].latest && !list[1].latest);
    assert_eq!(
        (list[0].size, list[1].size),
        (13, 12),
        "second draft, then the first"
    );

    let old = list[1].id.clone();
    let url = transfer::download_url(&target, Some(&old)).await.unwrap();
    assert_eq!(param(&query(&url), "versionId"), Some(old.as_str()));
    let policy = last_policy(&role).await;
    assert_eq!(
        policy["Statement"][0]["Action"],
        serde_json::json!(["s3:GetObjectVersion"])
    );

    objects::restore_version(&target, &old).await.unwrap();
    let list = objects::versions(&target).await.unwrap();
    assert_eq!(list.len(), 3, "restoring adds a version; nothing is lost");
    assert!(list[0].latest);
    assert_eq!(list[0].size, 12, "the first draft is current again");

    let (state, user, c) = connected(&pool, "versions-denied", READ_ALL).await;
    let target = Target::new(&state, user, c.id, "cv-versions", "doc.txt").unwrap();
    assert_eq!(
        objects::versions(&target).await.unwrap_err(),
        AppError::Denied {
            action: "s3:ListBucketVersions".into(),
            resource: "arn:aws:s3:::cv-versions".into(),
        }
    );
}
