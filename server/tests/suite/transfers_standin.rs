//! Transfers against the AWS stand-in in strict mode: what Crossview signs, for which key, on
//! which assumed session, and what a role without the permission is told. (The stand-in's own
//! checks of presigned URLs are proven in aws_standin.rs; the browser tests fetch them.)

use app::{
    aws::access::Target,
    error::AppError,
    iam::Action,
    location,
    transfers::{self, ssr as transfer, UploadPlan},
};
use sqlx::PgPool;

use crate::support::standin::{
    assume_role_seen, assumptions, browser_with_connection, connected, folder, http_with_body,
    keys_under, last_policy, open_uploads, param, query, LIST_ONLY, READ_ALL, READ_WRITE,
};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_download_is_signed_for_one_key_on_one_fresh_session(pool: PgPool) {
    let (state, user, c) = connected(&pool, "downloader", READ_ALL).await;
    let role = c.role_arn.clone().unwrap();
    let key = "odd/ünïcødé — 日本語.txt";

    let calls = assumptions(&role, async {
        let target = Target::new(&state, user, c.id, "cv-mixed", key)?;
        let url = target.download_url(None).await?;
        let pairs = query(&url);
        assert!(
            url.contains("/cv-mixed/odd/"),
            "path-style, the key in the path: {url}"
        );
        assert_eq!(param(&pairs, "X-Amz-Expires"), Some("600"), "10 minutes");
        assert!(param(&pairs, "X-Amz-Signature").is_some_and(|s| s.len() == 64));
        assert_eq!(
            param(&pairs, "response-content-disposition"),
            Some(app::aws::access::attachment("ünïcødé — 日本語.txt").as_str()),
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
    let gone = gone.download_url(None).await;
    assert_eq!(
        gone.unwrap_err(),
        AppError::Aws(app::error::AwsProblem::ObjectNotFound)
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_role_without_get_object_gets_no_link_and_is_told_why(pool: PgPool) {
    let (state, user, c) = connected(&pool, "no-download", LIST_ONLY).await;
    let key = "walk/one/two/three/report.csv";
    let target = Target::new(&state, user, c.id, "cv-mixed", key).unwrap();
    let err = target.download_url(None).await.unwrap_err();
    assert_eq!(
        err,
        AppError::Denied {
            action: Action::GetObject,
            resource: format!("arn:aws:s3:::cv-mixed/{key}"),
        }
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
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
    // The redirect carries a presigned URL: no cache may keep it.
    assert_eq!(page.header("cache-control"), "no-store");

    // A refusal returns to the object's page, which explains it.
    let (mut browser, c) = browser_with_connection(&pool, "clicker-denied", LIST_ONLY).await;
    let page = browser
        .get(&transfers::download_href(c.id, "cv-mixed", key))
        .await;
    assert_eq!(page.status, 302);
    let back = location::object_href(c.id, "cv-mixed", key);
    assert_eq!(page.location(), format!("{back}&error=Denied"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn uploads_are_signed_for_one_key_and_refused_without_put_object(pool: PgPool) {
    let (state, user, c) = connected(&pool, "uploader", READ_WRITE).await;
    let role = c.role_arn.clone().unwrap();
    let key = format!("{}ünï + space.txt", folder("up"));
    let target = Target::new(&state, user, c.id, "cv-work", &key).unwrap();

    let plan = transfer::start_upload(&target, 1234, "text/plain", true)
        .await
        .unwrap();
    let UploadPlan::Single {
        url, content_type, ..
    } = plan
    else {
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
        transfer::start_upload(&target, 40 << 20, "", true)
            .await
            .map(|_| ())
    })
    .await;
    assert_eq!(calls, 1);
    let plan = transfer::start_upload(&target, 40 << 20, "", true)
        .await
        .unwrap();
    let UploadPlan::Multipart {
        upload,
        part_size,
        parts,
        parallel,
        held,
    } = plan
    else {
        panic!("a 40 MiB file is multipart: {plan:?}");
    };
    let upload_id = upload.id.clone();
    assert_eq!((part_size, parts, parallel), (8 << 20, 5, 4));
    assert!(
        held.is_empty(),
        "an upload with no part sent yet starts anew"
    );
    let urls = transfer::part_urls(&target, &upload, 1, 5)
        .await
        .unwrap()
        .urls;
    assert_eq!(urls.len(), 5);
    for (n, url) in urls.iter().enumerate() {
        let pairs = query(url);
        assert_eq!(
            param(&pairs, "partNumber"),
            Some((n + 1).to_string().as_str())
        );
        assert_eq!(param(&pairs, "uploadId"), Some(upload_id.as_str()));
    }
    // Parts beyond the declared size's five do not exist.
    assert_eq!(
        transfer::part_urls(&target, &upload, 5, 2)
            .await
            .unwrap_err(),
        AppError::Request("this upload has parts 1 to 5, asked at most 100 at a time".into())
    );
    transfer::abort_upload(&target, &upload_id).await.unwrap();

    // A reader may not upload: the multipart upload is refused by S3, naming the permission.
    let (state, user, c) = connected(&pool, "reader-no-upload", READ_ALL).await;
    let target = Target::new(&state, user, c.id, "cv-work", &key).unwrap();
    assert_eq!(
        transfer::start_upload(&target, 40 << 20, "", true)
            .await
            .unwrap_err(),
        AppError::Denied {
            action: Action::PutObject,
            resource: format!("arn:aws:s3:::cv-work/{key}"),
        }
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn upload_limits_are_inside_the_signature(pool: PgPool) {
    let (state, user, c) = connected(&pool, "signed-limits", READ_WRITE).await;
    let prefix = folder("limits");
    let key = format!("{prefix}small.txt");
    let target = Target::new(&state, user, c.id, "cv-work", &key).unwrap();

    // One PUT: its length and type are signed, so only the declared file goes through.
    let UploadPlan::Single { url, .. } = transfer::start_upload(&target, 1234, "text/plain", true)
        .await
        .unwrap()
    else {
        panic!("a small file is one PUT");
    };
    let signed = param(&query(&url), "X-Amz-SignedHeaders")
        .unwrap_or_default()
        .to_owned();
    assert!(
        signed.contains("content-length") && signed.contains("content-type"),
        "{signed}"
    );
    for (body, content_type) in [
        (vec![b'x'; 1235], "text/plain"),
        (vec![b'x'; 1234], "text/html"),
    ] {
        let sent = http_with_body("PUT", &url, &[("Content-Type", content_type)], &body).await;
        assert_eq!(
            sent.status,
            403,
            "{} bytes as {content_type}: {}",
            body.len(),
            sent.body
        );
    }
    let sent = http_with_body(
        "PUT",
        &url,
        &[("Content-Type", "text/plain")],
        &[b'x'; 1234],
    )
    .await;
    assert_eq!(sent.status, 200, "{}", sent.body);

    // Multipart, 17 MiB declared: parts of 8, 8 and 1 MiB, each URL signed for its length.
    let key = format!("{prefix}large.bin");
    let target = Target::new(&state, user, c.id, "cv-work", &key).unwrap();
    let UploadPlan::Multipart { upload, parts, .. } =
        transfer::start_upload(&target, 17 << 20, "", true)
            .await
            .unwrap()
    else {
        panic!("17 MiB is multipart");
    };
    assert_eq!(parts, 3);
    let batch = transfer::part_urls(&target, &upload, 3, 1).await.unwrap();
    let last = &batch.urls;
    let too_long = http_with_body("PUT", &last[0], &[], &vec![0u8; (1 << 20) + 1]).await;
    assert_eq!(too_long.status, 403, "{}", too_long.body);
    let sent = http_with_body("PUT", &last[0], &[], &vec![0u8; 1 << 20]).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let etag = sent.header("etag").unwrap().to_owned();

    // A ticket claiming another size, or a later expiry, is refused: neither can be changed.
    let (_, rest) = upload.ticket.split_once('.').unwrap();
    let (expires, mac) = rest.split_once('.').unwrap();
    for ticket in [
        format!("{}.{expires}.{mac}", 1u64 << 40),
        format!(
            "17825792.{}.{mac}",
            expires.parse::<i64>().unwrap() + 86_400
        ),
    ] {
        let forged = transfers::MultipartUpload {
            ticket,
            ..upload.clone()
        };
        assert!(transfer::part_urls(&target, &forged, 3, 1).await.is_err());
    }
    // Each batch of part URLs renews the ticket to expire with them (plus time to complete):
    // never before the one it replaces.
    let expiry = |ticket: &str| -> i64 { ticket.split('.').nth(1).unwrap().parse().unwrap() };
    assert!(expiry(&batch.ticket) >= expiry(&upload.ticket));
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let lives = expiry(&batch.ticket) - now;
    let most = i64::from(state.config.presign_seconds) + transfer::ticket::GRACE_SECS;
    assert!((most - 5..=most).contains(&lives), "{lives} s");
    // A ticket past its expiry is refused for part URLs and completion alike, with the reason.
    let lapsed = transfers::MultipartUpload {
        ticket: transfer::ticket::issue_until(&target, &upload.id, 17 << 20, now - 1),
        ..upload.clone()
    };
    let expired =
        AppError::Request("this upload's ticket has expired: upload the file again".into());
    assert_eq!(
        transfer::part_urls(&target, &lapsed, 3, 1)
            .await
            .unwrap_err(),
        expired
    );
    assert_eq!(
        transfer::complete_upload(&target, &lapsed, vec![], true)
            .await
            .unwrap_err(),
        expired
    );

    // Completing with less than declared is refused, and the upload is aborted: nothing stays.
    let done = transfer::complete_upload(
        &target,
        &upload,
        vec![transfers::SentPart { number: 3, etag }],
        true,
    )
    .await;
    assert_eq!(
        done.unwrap_err(),
        AppError::UploadSizeMismatch {
            sent: "1.0 MiB".into(),
            declared: "17.0 MiB".into()
        }
    );
    assert_eq!(open_uploads("cv-work", &prefix), 0);
    assert_eq!(
        keys_under("cv-work", &prefix),
        [format!("{prefix}small.txt")]
    );
}

/// Keys in any script, against the strict stand-in, which refuses session policies outside
/// AWS's charset as AWS does: each is uploaded, listed, downloaded, shared and copied.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn keys_in_any_script_upload_list_download_share_and_copy(pool: PgPool) {
    let (state, user, c) = connected(&pool, "international", READ_WRITE).await;
    let root = folder("intl");
    for (name, content) in [
        ("写真/東京 🗼.jpg", "a tower at night"),
        ("Ελληνικά/файл.txt", "γειά σου, мир"),
    ] {
        let key = format!("{root}{name}");
        let target = Target::new(&state, user, c.id, "cv-work", &key).unwrap();
        let plan = transfer::start_upload(&target, content.len() as u64, "text/plain", true)
            .await
            .unwrap();
        let UploadPlan::Single {
            url, content_type, ..
        } = plan
        else {
            panic!("a small file is one PUT: {plan:?}");
        };
        let put = http_with_body(
            "PUT",
            &url,
            &[("Content-Type", &content_type)],
            content.as_bytes(),
        )
        .await;
        assert_eq!(put.status, 200, "{key}: {}", put.body);

        let (folder_name, _) = name.split_once('/').unwrap();
        let prefix = format!("{root}{folder_name}/");
        let listed =
            app::browse::ssr::objects(&state, user, c.id, "cv-work", (&prefix, 1000), None)
                .await
                .unwrap();
        assert_eq!(
            listed
                .objects
                .iter()
                .map(|o| o.key.as_str())
                .collect::<Vec<_>>(),
            [key.as_str()]
        );

        let download = target.download_url(None).await.unwrap();
        let got = http_with_body("GET", &download, &[], &[]).await;
        assert_eq!((got.status, got.body.as_str()), (200, content), "{key}");

        let share = app::shares::ssr::create(&target, &crate::support::share_for(1, false))
            .await
            .unwrap();
        let token = share.path.rsplit('/').next().unwrap();
        let opened = app::shares::ssr::open(&state, token, None, None, None)
            .await
            .unwrap();
        let got = http_with_body("GET", &opened, &[], &[]).await;
        assert_eq!(
            (got.status, got.body.as_str()),
            (200, content),
            "shared {key}"
        );

        let copy = format!("{key} (copy)");
        let report = app::objects::ssr::copy(&state, user, c.id, "cv-work", &key, &copy, false)
            .await
            .unwrap();
        assert_eq!((report.done, report.failed.len()), (1, 0), "{report:?}");
        assert!(keys_under("cv-work", &prefix).contains(&copy), "{copy}");
    }
}
