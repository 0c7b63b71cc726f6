//! Rotating an ExternalId without downtime, against the strict stand-in: the new ID is verified
//! only once the role admits it, the switch retires the old one for good, and the doctor flags a
//! role that still admits it.

use app::{
    connections::{
        doctor::ssr as doctor,
        ssr::{self as connections, rotation},
    },
    error::{AppError, AwsProblem},
};
use sqlx::PgPool;

use crate::support::standin::{
    connection_with_role, owner, put_role_with_condition, state, verify, READ_ALL,
};

fn trusting(ids: &[&str]) -> String {
    serde_json::json!({ "StringEquals": { "sts:ExternalId": ids } }).to_string()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn an_external_id_is_rotated_only_once_the_role_admits_the_new_one(pool: PgPool) {
    let state = state(pool.clone(), crate::support::aws().await).await;
    let user = owner(&pool, "rotator@example.com").await;
    let c = connection_with_role(&state, user, "rotator", None, Some(READ_ALL)).await;
    let c = verify(&state, user, &c).await;
    let old = c.external_id.clone();

    rotation::start(&pool, user, c.id).await.unwrap();
    let started = rotation::state(&state, user, c.id).await.unwrap();
    let new = started.next.clone().expect("a new ExternalId");
    assert_ne!(new, old);
    let trust: serde_json::Value = serde_json::from_str(&started.trust_policy).unwrap();
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
        serde_json::json!([new, old])
    );
    // A second start keeps the rotation under way as it is.
    rotation::start(&pool, user, c.id).await.unwrap();
    assert_eq!(
        rotation::state(&state, user, c.id).await.unwrap().next,
        Some(new.clone())
    );

    // The role does not admit the new ID yet: nothing switches.
    let early = rotation::finish(&state, user, c.id).await;
    assert!(
        matches!(early, Err(AppError::NextExternalIdNotAdmitted)),
        "{early:?}"
    );
    assert_eq!(
        connections::get(&pool, user, c.id)
            .await
            .unwrap()
            .external_id,
        old
    );

    // A trust policy that would admit any ID is refused, even with the new one in it.
    put_role_with_condition("rotator", r#"{"StringLike": {"sts:ExternalId": "*"}}"#);
    let open = rotation::finish(&state, user, c.id).await;
    assert!(
        matches!(open, Err(AppError::Aws(AwsProblem::TrustTooOpen))),
        "{open:?}"
    );

    // Both IDs admitted: verified, switched, the old one retired and noted.
    put_role_with_condition("rotator", &trusting(&[&new, &old]));
    rotation::finish(&state, user, c.id).await.unwrap();
    let now = connections::get(&pool, user, c.id).await.unwrap();
    assert_eq!(now.external_id, new);
    let after = rotation::state(&state, user, c.id).await.unwrap();
    assert_eq!(
        (after.next, after.last_retired.as_deref()),
        (None, Some(old.as_str()))
    );
    let detail: serde_json::Value = sqlx::query_scalar(
        "select detail from audit_events where action = 'connection.external_id_rotate'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(detail["old_still_admitted"], true);
    // Crossview goes on working through the new ID.
    let again = connections::verify::verify(&state, user, c.id)
        .await
        .unwrap();
    assert_eq!(again.status, app::connections::Status::Verified);

    // The doctor flags the old ID while the role admits it, and not once it is removed.
    let origin = "http://127.0.0.1:3000";
    let report = doctor::run(&state, user, &now, origin, false)
        .await
        .unwrap();
    let flagged: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == "retired_external_id_admitted")
        .collect();
    assert_eq!(flagged.len(), 1, "{report:#?}");
    assert!(flagged[0].message.contains(&old));
    assert!(flagged[0].fix.as_ref().unwrap().json.contains(&new));
    put_role_with_condition("rotator", &trusting(&[&new]));
    let report = doctor::run(&state, user, &now, origin, false)
        .await
        .unwrap();
    assert!(report
        .findings
        .iter()
        .all(|f| f.code != "retired_external_id_admitted"));

    // A rotation cancelled retires its new ID too: neither is ever given again.
    rotation::start(&pool, user, c.id).await.unwrap();
    let dropped = rotation::state(&state, user, c.id)
        .await
        .unwrap()
        .next
        .unwrap();
    rotation::cancel(&pool, user, c.id).await.unwrap();
    assert_eq!(
        rotation::state(&state, user, c.id).await.unwrap().next,
        None
    );
    let retired: Vec<String> = sqlx::query_scalar(
        "select external_id from retired_external_ids where connection_id = $1 order by retired_at",
    )
    .bind(c.id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(retired, [old.clone(), dropped.clone()]);
    for reused in [&old, &dropped] {
        let taken = sqlx::query("update connections set next_external_id = $2 where id = $1")
            .bind(c.id)
            .bind(reused)
            .execute(&pool)
            .await;
        assert!(taken.is_err(), "a retired ID came back");
    }
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where action like 'connection.external_id_rotate%' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "connection.external_id_rotate_start",
            "connection.external_id_rotate",
            "connection.external_id_rotate_start",
            "connection.external_id_rotate_cancel"
        ]
    );
}
