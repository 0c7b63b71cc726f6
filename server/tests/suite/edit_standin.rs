//! Editing an object's tags and metadata against the strict stand-in: the change reaches S3 and
//! shows on the object's details, tags survive a metadata edit, S3's limits are refused before
//! AWS is asked, the credentials may do exactly the edit, and each edit is audited with what
//! it changed.

use app::{
    aws::access::Target,
    browse::ssr as browse,
    error::AppError,
    iam::Action,
    objects::{ssr as objects, Metadata},
};
use serde_json::json;
use sqlx::PgPool;

use crate::support::standin::{
    assume_role_calls, connected, folder, last_policy, put_object, READ_ALL, READ_WRITE,
};

fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn last_detail(pool: &PgPool, action: &str) -> serde_json::Value {
    sqlx::query_scalar("select detail from audit_events where action = $1 order by id desc limit 1")
        .bind(action)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn tags_and_metadata_are_edited_in_place_within_s3s_limits(pool: PgPool) {
    let (state, user, c) = connected(&pool, "editor", READ_WRITE).await;
    let role = c.role_arn.clone().unwrap();
    let key = format!("{}report 2024 ✓.csv", folder("edit"));
    put_object("cv-work", &key);
    let target = Target::new(&state, user, c.id, "cv-work", &key).unwrap();

    objects::set_tags(
        &target,
        pairs(&[("team", "finance"), ("部門", "経理 2024")]),
    )
    .await
    .unwrap();
    // The credentials could read and write this key's tags, and nothing else.
    let policy = last_policy(&role).await;
    assert_eq!(
        policy["Statement"][0]["Action"],
        json!(["s3:GetObjectTagging", "s3:PutObjectTagging"])
    );
    let d = browse::details(&state, user, c.id, "cv-work", &key)
        .await
        .unwrap();
    assert_eq!(
        d.tags.unwrap(),
        pairs(&[("team", "finance"), ("部門", "経理 2024")])
    );
    let resource = policy["Statement"][0]["Resource"].as_str().unwrap();
    assert_eq!(resource, format!("arn:aws:s3:::cv-work/{key}"));

    objects::set_tags(&target, pairs(&[("team", "ops"), ("new", "1")]))
        .await
        .unwrap();
    assert_eq!(
        last_detail(&pool, "object.tags").await["changed"],
        json!({ "team": ["finance", "ops"] })
    );
    assert_eq!(
        last_detail(&pool, "object.tags").await["removed"],
        json!(["部門"])
    );

    // Over S3's limits: refused with the reason, before any assumption.
    let before = assume_role_calls(&role).await;
    let eleven: Vec<_> = (0..11).map(|n| (format!("k{n}"), "v".to_owned())).collect();
    let err = objects::set_tags(&target, eleven).await.unwrap_err();
    assert!(
        matches!(&err, AppError::Request(m) if m.contains("at most 10 tags")),
        "{err}"
    );
    let err = objects::set_tags(&target, pairs(&[("k", &"v".repeat(257))]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Request(m) if m.contains("256")),
        "{err}"
    );
    assert_eq!(assume_role_calls(&role).await, before);

    // Metadata and storage class, by a copy onto itself: the tags stay.
    let meta = Metadata {
        content_type: "text/csv; charset=utf-8".into(),
        cache_control: "max-age=60".into(),
        content_disposition: "attachment; filename=\"report.csv\"".into(),
        content_language: "en".into(),
        user: pairs(&[("owner", "ops")]),
        storage_class: "STANDARD_IA".into(),
        ..Metadata::default()
    };
    objects::set_metadata(&target, meta.clone()).await.unwrap();
    let d = browse::details(&state, user, c.id, "cv-work", &key)
        .await
        .unwrap();
    assert_eq!(d.meta.content_type, meta.content_type);
    assert_eq!(d.meta.cache_control, "max-age=60");
    assert_eq!(d.meta.content_disposition, meta.content_disposition);
    assert_eq!(d.meta.user, pairs(&[("owner", "ops")]));
    assert_eq!(d.meta.storage_class, "STANDARD_IA");
    assert_eq!(d.tags.unwrap(), pairs(&[("team", "ops"), ("new", "1")]));
    let changed = last_detail(&pool, "object.metadata").await;
    assert_eq!(
        changed["changed"]["Storage class"],
        json!(["STANDARD", "STANDARD_IA"])
    );
    assert_eq!(changed["added"]["Cache-Control"], json!("max-age=60"));

    // A bulk edit's patch sets what it gives and keeps the rest, tags included.
    let patch = Metadata {
        cache_control: "no-store".into(),
        user: pairs(&[("Reviewed", "yes")]),
        ..Metadata::default()
    };
    objects::patch_metadata(&target, patch).await.unwrap();
    let d = browse::details(&state, user, c.id, "cv-work", &key)
        .await
        .unwrap();
    assert_eq!(d.meta.cache_control, "no-store");
    assert_eq!(d.meta.content_type, meta.content_type);
    assert_eq!(d.meta.content_language, "en");
    assert_eq!(d.meta.user, pairs(&[("owner", "ops"), ("reviewed", "yes")]));
    assert_eq!(d.meta.storage_class, "STANDARD_IA");
    assert_eq!(d.tags.unwrap(), pairs(&[("team", "ops"), ("new", "1")]));
    let changed = last_detail(&pool, "object.metadata").await;
    assert_eq!(
        changed,
        json!({
            "added": { "x-amz-meta-reviewed": "yes" },
            "changed": { "Cache-Control": ["max-age=60", "no-store"] },
            "removed": []
        })
    );

    let bad = Metadata {
        user: pairs(&[("has space", "x")]),
        ..meta
    };
    let err = objects::set_metadata(&target, bad).await.unwrap_err();
    assert!(
        matches!(&err, AppError::Request(m) if m.contains("letters, digits")),
        "{err}"
    );

    // A role that may read but not tag: AWS refuses, and the page can say which permission.
    let (state, user, c) = connected(&pool, "reader-no-tags", READ_ALL).await;
    let target = Target::new(&state, user, c.id, "cv-work", &key).unwrap();
    let err = objects::set_tags(&target, pairs(&[("x", "y")]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AppError::Denied {
                action: Action::PutObjectTagging,
                ..
            }
        ),
        "{err:?}"
    );
}
