//! Uploads that neither lose work nor overwrite: an interrupted multipart upload goes on from
//! the parts S3 holds, and a write onto a taken name is refused by S3 itself unless the user
//! chose to replace it (against the strict stand-in).

use app::{
    aws::access::Target,
    error::AppError,
    grants::ssr as grants,
    transfers::{self, ssr as transfer, UploadPlan},
};
use sqlx::PgPool;

use crate::support::standin::{
    assume_role_seen, connected, folder, http, http_with_body, keys_under, open_uploads, param,
    put_object, query, READ_WRITE,
};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn an_interrupted_upload_goes_on_from_the_parts_s3_holds(pool: PgPool) {
    let (state, user, c) = connected(&pool, "resumer", READ_WRITE).await;
    let key = format!("{}big ✓.bin", folder("resume"));
    let target = Target::new(&state, user, c.id, "cv-work", &key).unwrap();
    let size = 20u64 << 20;
    let content: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    let UploadPlan::Multipart {
        upload, part_size, ..
    } = transfer::start_upload(&target, size, "", true)
        .await
        .unwrap()
    else {
        panic!("20 MiB is multipart");
    };
    // Parts 1 and 3 arrive; then the tab is gone.
    let urls = transfer::part_urls(&target, &upload, 1, 3)
        .await
        .unwrap()
        .urls;
    let part =
        |n: u64| &content[((n - 1) * part_size) as usize..(n * part_size).min(size) as usize];
    for n in [1, 3] {
        let sent = http_with_body("PUT", &urls[n as usize - 1], &[], part(n)).await;
        assert_eq!(sent.status, 200, "{}", sent.body);
    }

    // The same file picked again: the same upload, with the parts S3 holds and their ETags.
    let UploadPlan::Multipart {
        upload: again,
        parts,
        held,
        ..
    } = transfer::start_upload(&target, size, "", true)
        .await
        .unwrap()
    else {
        panic!("still multipart");
    };
    assert_eq!(again.id, upload.id);
    assert_eq!(held.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 3]);
    // Another size under the same name is another file: a new upload.
    let UploadPlan::Multipart { upload: other, .. } =
        transfer::start_upload(&target, size + 1, "", true)
            .await
            .unwrap()
    else {
        panic!("multipart");
    };
    assert_ne!(other.id, upload.id);
    transfer::abort_upload(&target, &other.id).await.unwrap();

    // Only part 2 goes; completion takes all three, and the object is the file.
    let urls = transfer::part_urls(&target, &again, 2, 1)
        .await
        .unwrap()
        .urls;
    let sent = http_with_body("PUT", &urls[0], &[], part(2)).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let mut all = held.clone();
    all.push(transfers::SentPart {
        number: 2,
        etag: sent.header("etag").unwrap().to_owned(),
    });
    assert_eq!(parts, 3);
    transfer::complete_upload(&target, &again, all, true)
        .await
        .unwrap();
    let url = target.download_url(None).await.unwrap();
    let got = http("GET", &url, &[]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body.len() as u64, size, "the whole file, once");
    assert!(got.body.as_bytes() == content.as_slice(), "byte for byte");
    let resumed: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where action = 'upload.start' and detail->>'resumed' = 'true'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(resumed, 1);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn an_upload_never_overwrites_unless_asked(pool: PgPool) {
    let (state, user, c) = connected(&pool, "careful-uploader", READ_WRITE).await;
    let prefix = folder("clash");
    let taken = format!("{prefix}taken ✓.txt");
    put_object("cv-work", &taken);
    let free = format!("{prefix}free.txt");

    // Which names are taken, asked before anything is sent.
    let found = transfer::existing(
        &state,
        user,
        c.id,
        ("cv-work", &prefix),
        &[free.clone(), taken.clone(), format!("{prefix}taken")],
    )
    .await
    .unwrap();
    assert_eq!(found, std::slice::from_ref(&taken));
    let outside = transfer::existing(
        &state,
        user,
        c.id,
        ("cv-work", &prefix),
        &["elsewhere.txt".into()],
    )
    .await;
    assert_eq!(outside.unwrap_err(), AppError::KeyInvalid);

    // A PUT signed with `If-None-Match: *`: the header is part of the signature, and S3 writes
    // only where no object is.
    let sign = async |key: &str| {
        let target = Target::new(&state, user, c.id, "cv-work", key).unwrap();
        match transfer::start_upload(&target, 5, "text/plain", false)
            .await
            .unwrap()
        {
            UploadPlan::Single {
                url, if_none_match, ..
            } => {
                assert!(if_none_match);
                url
            }
            other => panic!("5 bytes go in one PUT: {other:?}"),
        }
    };
    let url = sign(&taken).await;
    assert!(param(&query(&url), "X-Amz-SignedHeaders")
        .unwrap()
        .contains("if-none-match"));
    let headers = [("Content-Type", "text/plain"), ("If-None-Match", "*")];
    let refused = http_with_body("PUT", &url, &headers, b"new!!").await;
    assert_eq!(refused.status, 412, "{}", refused.body);
    let without = http_with_body("PUT", &url, &[("Content-Type", "text/plain")], b"new!!").await;
    assert_eq!(
        without.status, 403,
        "the condition cannot be left out: {}",
        without.body
    );
    let url = sign(&free).await;
    let written = http_with_body("PUT", &url, &headers, b"new!!").await;
    assert_eq!(written.status, 200, "{}", written.body);
    assert_eq!(
        keys_under("cv-work", &prefix),
        [free.clone(), taken.clone()]
    );

    // A multipart upload completes only where no object is, unless asked to replace.
    let target = Target::new(&state, user, c.id, "cv-work", &taken).unwrap();
    let size = 17u64 << 20;
    let UploadPlan::Multipart {
        upload, part_size, ..
    } = transfer::start_upload(&target, size, "", false)
        .await
        .unwrap()
    else {
        panic!("17 MiB is multipart");
    };
    let urls = transfer::part_urls(&target, &upload, 1, 3)
        .await
        .unwrap()
        .urls;
    let mut parts = Vec::new();
    for (n, url) in urls.iter().enumerate() {
        let length = part_size.min(size - n as u64 * part_size) as usize;
        let sent = http_with_body("PUT", url, &[], &vec![b'z'; length]).await;
        assert_eq!(sent.status, 200, "{}", sent.body);
        parts.push(transfers::SentPart {
            number: n as i32 + 1,
            etag: sent.header("etag").unwrap().to_owned(),
        });
    }
    let kept = transfer::complete_upload(&target, &upload, parts.clone(), false).await;
    assert_eq!(kept.unwrap_err(), AppError::ObjectExists);
    transfer::complete_upload(&target, &upload, parts, true)
        .await
        .unwrap();
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_folders_unfinished_uploads_are_listed_with_what_they_hold_and_can_be_aborted(
    pool: PgPool,
) {
    let (state, user, c) = connected(&pool, "unfinished-lister", READ_WRITE).await;
    let base = folder("unfinished");
    let started = async |key: &str| {
        let target = Target::new(&state, user, c.id, "cv-work", key).unwrap();
        match transfer::start_upload(&target, 20 << 20, "", true)
            .await
            .unwrap()
        {
            UploadPlan::Multipart {
                upload, part_size, ..
            } => (upload, part_size),
            other => panic!("20 MiB is multipart: {other:?}"),
        }
    };
    let half = format!("{base}half ✓.bin");
    let (upload, part_size) = started(&half).await;
    let target = Target::new(&state, user, c.id, "cv-work", &half).unwrap();
    let url = transfer::part_urls(&target, &upload, 2, 1)
        .await
        .unwrap()
        .urls;
    let sent = http_with_body("PUT", &url[0], &[], &vec![b'p'; part_size as usize]).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    started(&format!("{base}below/none.bin")).await;
    started(&format!("{}-elsewhere/x.bin", base.trim_end_matches('/'))).await;

    // The folder's two (the one below it included), what each holds, and cv-work's rule.
    let found = transfer::unfinished(&state, user, c.id, ("cv-work", &base))
        .await
        .unwrap();
    let mut held: Vec<_> = found
        .uploads
        .iter()
        .map(|u| (u.key.strip_prefix(&base).unwrap().to_owned(), u.held))
        .collect();
    held.sort();
    assert_eq!(
        held,
        [
            ("below/none.bin".to_owned(), Some((0, 0))),
            ("half ✓.bin".to_owned(), Some((1, part_size))),
        ]
    );
    assert!(!found.more);
    assert_eq!(found.cleanup, transfers::Cleanup::AfterDays(7));
    let policy = assume_role_seen(c.role_arn.as_deref().unwrap()).await["policy"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("s3:ListBucketMultipartUploads") && !policy.contains("s3:PutObject"),
        "lists, changes nothing: {policy}"
    );
    // A bucket without a rule says so; a folder must be a folder.
    let elsewhere = transfer::unfinished(&state, user, c.id, ("cv-transfers", ""))
        .await
        .unwrap();
    assert_eq!(elsewhere.cleanup, transfers::Cleanup::None);
    let not_a_folder = transfer::unfinished(&state, user, c.id, ("cv-work", "no-slash")).await;
    assert_eq!(not_a_folder.unwrap_err(), AppError::KeyInvalid);

    // Aborted from the list (no ticket needed): S3 drops it and its part, and it is audited.
    let half = found
        .uploads
        .iter()
        .find(|u| u.held == Some((1, part_size)))
        .unwrap();
    let target = Target::new(&state, user, c.id, "cv-work", &half.key).unwrap();
    transfer::abort_upload(&target, &half.id).await.unwrap();
    assert_eq!(open_uploads("cv-work", &base), 1);
    let audited = async |action: &str| -> i64 {
        sqlx::query_scalar(
            "select count(*) from audit_events where action = $1 and outcome = 'ok' and key like $2",
        )
        .bind(action)
        .bind(format!("{base}%"))
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    assert_eq!(audited("upload.list").await, 1, "one row per listing");
    assert!(audited("upload.abort").await >= 1);

    // A connection restricted to a location lists the uploads in it: IAM gives
    // ListBucketMultipartUploads no `s3:prefix`, so the location's fence must not ask for one.
    grants::add(&pool, user, c.id, "cv-work", &base, true)
        .await
        .unwrap();
    let fenced = transfer::unfinished(&state, user, c.id, ("cv-work", &base))
        .await
        .unwrap();
    assert_eq!(fenced.uploads.len(), 1);
    assert!(
        matches!(fenced.cleanup, transfers::Cleanup::Unknown(_)),
        "the bucket's own settings stay outside a location: {:?}",
        fenced.cleanup
    );
}
