//! What an administrator does to anyone's connection: disable or enable it, re-check it, delete
//! it. Audited with the admin as actor; the owner is told (see `notify`).

use serde_json::json;

use super::verify::{self, check_and_store};
use crate::{
    audit::{
        ssr::{record, Event},
        Activity, Outcome,
    },
    error::AppError,
    notify::letters::{connection_changed, AdminChange},
    state::AppState,
};

fn by_admin(admin: i64, id: i64, action: Activity, outcome: Outcome) -> Event<'static> {
    Event {
        actor_id: Some(admin),
        connection_id: Some(id),
        detail: Some(json!({ "by": "admin" })),
        ..Event::new(action, outcome)
    }
}

/// Disables a connection for everyone (its owner sees "disabled by an administrator") or
/// enables it again, as it was. The owner is told when it changes.
pub async fn set_disabled(
    state: &AppState,
    admin: i64,
    id: i64,
    disabled: bool,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (owner, name, was_disabled): (i64, String, bool) = sqlx::query_as(
        "update connections c
         set disabled_at = case when $2 then coalesce(c.disabled_at, now()) end,
             disabled_by = case when $2 then $3::bigint end
         from (select disabled_at from connections where id = $1 for update) old
         where c.id = $1
         returning c.owner_id, c.name, old.disabled_at is not null",
    )
    .bind(id)
    .bind(disabled)
    .bind(admin)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let action = match disabled {
        true => Activity::ConnectionDisable,
        false => Activity::ConnectionEnable,
    };
    record(&mut *tx, by_admin(admin, id, action, Outcome::Ok)).await?;
    tx.commit().await?;
    if was_disabled != disabled {
        let change = match disabled {
            true => AdminChange::Disabled,
            false => AdminChange::Enabled,
        };
        connection_changed(state, owner, (id, &name), change).await;
    }
    Ok(())
}

/// Runs the owner's verification again (ExternalId still required, role still assumable,
/// account still the ARN's), as the admin, and records its result on the connection. The owner
/// is told the result; a check that could not run (AWS away) changed nothing and tells nobody.
pub async fn recheck(state: &AppState, admin: i64, id: i64) -> Result<(), AppError> {
    let owner = sqlx::query_scalar!("select owner_id from connections where id = $1", id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let connection = super::get(&state.pool, owner, id).await?;
    let result = check_and_store(state, admin, owner, &connection).await;
    let outcome = match &result {
        Ok(verify::Outcome::Verified) => Outcome::Ok,
        Ok(verify::Outcome::Failed(problem)) => Outcome::Error(problem.code().to_owned()),
        Err(err) => Outcome::Error(err.code()),
    };
    record(
        &state.pool,
        by_admin(admin, id, Activity::ConnectionRecheck, outcome),
    )
    .await?;
    let change = match &result {
        Ok(verify::Outcome::Verified) => Some(AdminChange::Rechecked(None)),
        Ok(verify::Outcome::Failed(problem)) => {
            Some(AdminChange::Rechecked(Some(problem.to_string())))
        }
        Err(_) => None,
    };
    if let Some(change) = change {
        connection_changed(state, owner, (id, &connection.name), change).await;
    }
    result.map(|_| ())
}

/// Deletes anyone's connection: Crossview forgets its role ARN and ExternalId, its locations,
/// grants and share links go with it, and its owner is told.
pub async fn delete(state: &AppState, admin: i64, id: i64) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let (owner, name): (i64, String) =
        sqlx::query_as("delete from connections where id = $1 returning owner_id, name")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(AppError::NotFound)?;
    record(
        &mut *tx,
        by_admin(admin, id, Activity::ConnectionDelete, Outcome::Ok),
    )
    .await?;
    tx.commit().await?;
    connection_changed(state, owner, (id, &name), AdminChange::Deleted).await;
    Ok(())
}
