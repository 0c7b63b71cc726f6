//! What an administrator does to anyone's connection: disable or enable it, and re-check it.
//! Audited with the admin as actor.

use serde_json::json;
use sqlx::PgPool;

use super::verify::{self, check_and_store};
use crate::{
    audit::{
        ssr::{record, Event},
        Activity, Outcome,
    },
    error::AppError,
    state::AppState,
};

/// Disables a connection for everyone (its owner sees "disabled by an administrator") or
/// enables it again, as it was.
pub async fn set_disabled(
    pool: &PgPool,
    admin: i64,
    id: i64,
    disabled: bool,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let found = sqlx::query_scalar!(
        "update connections
         set disabled_at = case when $2 then coalesce(disabled_at, now()) end,
             disabled_by = case when $2 then $3::bigint end
         where id = $1 returning id",
        id,
        disabled,
        admin
    )
    .fetch_optional(&mut *tx)
    .await?;
    found.ok_or(AppError::NotFound)?;
    let action = match disabled {
        true => Activity::ConnectionDisable,
        false => Activity::ConnectionEnable,
    };
    let event = Event {
        actor_id: Some(admin),
        connection_id: Some(id),
        detail: Some(json!({ "by": "admin" })),
        ..Event::new(action, Outcome::Ok)
    };
    record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Runs the owner's verification again (ExternalId still required, role still assumable,
/// account still the ARN's), as the admin, and records its result on the connection.
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
    let event = Event {
        actor_id: Some(admin),
        connection_id: Some(id),
        detail: Some(json!({ "by": "admin" })),
        ..Event::new(Activity::ConnectionRecheck, outcome)
    };
    record(&state.pool, event).await?;
    result.map(|_| ())
}
