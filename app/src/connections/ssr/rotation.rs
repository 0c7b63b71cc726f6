//! Rotating a verified connection's ExternalId without downtime: a new ID is generated and
//! shown with a trust policy that admits both; once the role admits the new one (and still
//! refuses any other, and none), Crossview switches to it and retires the old one, which is
//! never given again. Each step is audited.

use serde_json::json;
use sqlx::PgPool;

use super::{change, generate_external_id, get, verify};
use crate::{
    audit::{ssr::record, Activity},
    aws::{
        access::{assume_audited, charge, session_name},
        Scope,
    },
    connections::{Rotation, Status},
    error::{AppError, AwsProblem},
    state::AppState,
};

/// The connection's rotation under way, and the ExternalId it last retired, if any.
pub async fn state(app: &AppState, owner: i64, id: i64) -> Result<Rotation, AppError> {
    let pool = &app.pool;
    let connection = get(pool, owner, id).await?;
    let (next, retired): (Option<String>, Option<String>) = sqlx::query_as(
        "select next_external_id,
                (select r.external_id from retired_external_ids r
                 where r.connection_id = c.id order by r.retired_at desc limit 1)
         from connections c where id = $1 and owner_id = $2",
    )
    .bind(id)
    .bind(owner)
    .fetch_one(pool)
    .await?;
    let principal = super::principal(app).await?;
    let ids: Vec<&str> = next
        .iter()
        .map(String::as_str)
        .chain([connection.external_id.as_str()])
        .collect();
    let trust = super::guide::trust_policy_for(&principal, &ids);
    Ok(Rotation {
        current: connection.external_id.clone(),
        next,
        last_retired: retired,
        trust_policy: serde_json::to_string_pretty(&trust).unwrap_or_default(),
    })
}

/// Generates the new ExternalId (a verified connection only; one rotation at a time).
pub async fn start(pool: &PgPool, owner: i64, id: i64) -> Result<(), AppError> {
    let connection = get(pool, owner, id).await?;
    if connection.status != Status::Verified {
        return Err(AppError::ConnectionNotVerified);
    }
    let started = sqlx::query(
        "update connections set next_external_id = $3
         where id = $1 and owner_id = $2 and next_external_id is null",
    )
    .bind(id)
    .bind(owner)
    .bind(generate_external_id())
    .execute(pool)
    .await?
    .rows_affected();
    if started > 0 {
        record(
            pool,
            change(owner, id, Activity::ExternalIdRotateStart, json!({})),
        )
        .await?;
    }
    Ok(())
}

/// Drops the new ExternalId (retired: the role may trust it already).
pub async fn cancel(pool: &PgPool, owner: i64, id: i64) -> Result<(), AppError> {
    let cancelled = sqlx::query(
        "with old as (
             select id, next_external_id from connections
             where id = $1 and owner_id = $2 and next_external_id is not null for update
         ), retired as (
             insert into retired_external_ids (external_id, connection_id)
             select next_external_id, id from old on conflict do nothing
         )
         update connections c set next_external_id = null from old where c.id = old.id",
    )
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await?
    .rows_affected();
    if cancelled > 0 {
        record(
            pool,
            change(owner, id, Activity::ExternalIdRotateCancel, json!({})),
        )
        .await?;
    }
    Ok(())
}

/// Verifies the new ExternalId — the role admits it, and still refuses any other and none —
/// then switches to it and retires the old one. Whether the old one still worked is noted in
/// the audit trail; either way the owner is told to remove it from the trust policy.
pub async fn finish(state: &AppState, owner: i64, id: i64) -> Result<(), AppError> {
    let connection = get(&state.pool, owner, id).await?;
    let next: String = sqlx::query_scalar(
        "select next_external_id from connections
         where id = $1 and owner_id = $2 and next_external_id is not null",
    )
    .bind(id)
    .bind(owner)
    .fetch_optional(&state.pool)
    .await?
    .ok_or(AppError::NoRotation)?;
    let role_arn = connection
        .role_arn
        .as_deref()
        .ok_or(AppError::RoleArnMissing)?;
    charge(state, owner, false).await?;
    let name = session_name(owner);
    let current = verify::target(&connection, role_arn, &name);
    let with_next = crate::aws::RoleTarget {
        external_id: Some(&next),
        ..current
    };
    let assume =
        |target, activity| assume_audited(state, owner, id, target, &Scope::Verify, activity, None);
    if let Err(err) = assume(with_next, Activity::VerifyNextExternalId).await {
        return Err(match err {
            AppError::Aws(AwsProblem::TrustDenied) => AppError::NextExternalIdNotAdmitted,
            other => other,
        });
    }
    let old_admitted = assume(current, Activity::Verify).await.is_ok();
    if let Some(problem) = verify::refuses_others(state, owner, id, with_next, None).await? {
        return Err(AppError::Aws(problem));
    }
    let switched = sqlx::query(
        "with old as (
             select id, external_id from connections
             where id = $1 and owner_id = $2 and external_id = $3 and next_external_id = $4
             for update
         ), retired as (
             insert into retired_external_ids (external_id, connection_id)
             select external_id, id from old on conflict do nothing
         )
         update connections c
         set external_id = $4, next_external_id = null, external_id_issued_at = now(),
             external_id_renewable = false, last_verified_at = now()
         from old where c.id = old.id",
    )
    .bind(id)
    .bind(owner)
    .bind(&connection.external_id)
    .bind(&next)
    .execute(&state.pool)
    .await?
    .rows_affected();
    if switched == 0 {
        return Err(AppError::Request(
            "the connection changed while it was checked: try again".into(),
        ));
    }
    let detail = json!({ "old_still_admitted": old_admitted });
    record(
        &state.pool,
        change(owner, id, Activity::ExternalIdRotate, detail),
    )
    .await?;
    Ok(())
}
