//! Connecting many accounts at once, against the strict stand-in: each role gets a connection of
//! its own with its own ExternalId, and "Verify all" verifies each as a single verification
//! would (a role not rolled out yet fails alone).

use app::connections::{ssr::bulk, Status};
use sqlx::PgPool;

use crate::support::standin::{owner, put_role, state};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_batch_of_accounts_is_created_with_an_external_id_each_and_verified_together(
    pool: PgPool,
) {
    let state = state(pool.clone(), crate::support::aws().await).await;
    let user = owner(&pool, "organisation@example.com").await;
    // The stand-in is one account: the batch names three roles in it, as three accounts would.
    let account = "123456789012";
    let input = format!("{account} bulk-one\n{account}, bulk-two\n{account} bulk-missing\n");
    let roles = bulk::parse(&input, "crossview-access").unwrap();
    let ids = bulk::create_all(&state, user, &roles, true).await.unwrap();
    assert_eq!(ids.len(), 3);
    let rows = bulk::rows(&state, user, &ids).await.unwrap();
    let mut external_ids: Vec<&str> = rows.iter().map(|r| r.external_id.as_str()).collect();
    external_ids.dedup();
    assert_eq!(external_ids.len(), 3, "one ExternalId per account");
    assert!(rows.iter().all(|r| r.status == Status::Pending));

    // The StackSet gives each instance its own connection's ExternalId.
    let guide = bulk::stack_set("arn:aws:iam::000000000000:user/crossview", &rows, true);
    for row in &rows {
        assert!(guide.script.contains(&format!(
            "Accounts={account},AccountFilterType=INTERSECTION \\\n  --parameter-overrides ParameterKey=ExternalId,ParameterValue={}",
            row.external_id
        )), "{}", guide.script);
    }

    // Two roles are rolled out (as the StackSet would), the third not yet.
    for row in &rows[..2] {
        let name = row.role_arn.rsplit('/').next().unwrap();
        put_role(
            name,
            Some(&row.external_id),
            Some(crate::support::standin::READ_ALL),
        );
    }
    let verified = bulk::verify_all(&state, user, &ids).await.unwrap();
    assert_eq!(verified, 2);
    let rows = bulk::rows(&state, user, &ids).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.status).collect::<Vec<_>>(),
        [Status::Verified, Status::Verified, Status::Failed]
    );
    assert!(
        rows[2].problem.as_deref().unwrap().contains("refused"),
        "{:?}",
        rows[2].problem
    );
    // Each verification is audited as a single one is.
    let audited: i64 = sqlx::query_scalar(
        "select count(distinct connection_id) from audit_events where action = 'connection.verify'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 3);
    // Another user's connections are not theirs to read.
    let stranger = owner(&pool, "stranger@example.com").await;
    assert!(bulk::rows(&state, stranger, &ids).await.is_err());
}
