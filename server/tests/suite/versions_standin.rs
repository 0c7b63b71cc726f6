//! Object versions against the AWS stand-in in strict mode: listed, downloaded, restored.

use app::{aws::access::Target, error::AppError, iam::Action, objects::ssr as objects};
use sqlx::PgPool;

use crate::support::standin::{connected, last_policy, param, query, READ_ALL, VERSIONS};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
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
    let url = target.download_url(Some(&old)).await.unwrap();
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
            action: Action::ListBucketVersions,
            resource: "arn:aws:s3:::cv-versions".into(),
        }
    );
}
