//! Verification: the role trusts Crossview with the ExternalId, belongs to the account in its
//! ARN, and does *not* trust Crossview without the ExternalId.

use std::time::{Duration, Instant};

use super::get;
use crate::{
    audit::Activity,
    aws::{
        access::{assume_audited, session_name},
        failure, RoleTarget, Scope,
    },
    connections::Connection,
    error::{AppError, AwsProblem},
    state::AppState,
};

/// The first wait between attempts while a new role propagates; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// How a verification ended, before it is stored.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Trusted; `open_trust` when the role can also be assumed without the ExternalId.
    Verified {
        open_trust: bool,
    },
    Failed(AwsProblem),
}

pub async fn verify(state: &AppState, user_id: i64, id: i64) -> Result<Connection, AppError> {
    let connection = get(&state.pool, user_id, id).await?;
    let role_arn = connection
        .role_arn
        .clone()
        .ok_or(AppError::RoleArnMissing)?;
    let outcome = check(state, user_id, &connection, &role_arn).await?;
    store(state, user_id, id, &outcome).await?;
    get(&state.pool, user_id, id).await
}

async fn check(
    state: &AppState,
    user_id: i64,
    connection: &Connection,
    role_arn: &str,
) -> Result<Outcome, AppError> {
    let name = session_name(user_id);
    let with_id = RoleTarget {
        role_arn,
        external_id: Some(&connection.external_id),
        session_name: &name,
        endpoints: connection.endpoints(),
    };

    // A role created seconds ago may still be denied while IAM propagates it: retry, bounded.
    let started = Instant::now();
    let mut backoff = FIRST_BACKOFF;
    let assumed = loop {
        match assume_audited(
            state,
            user_id,
            connection.id,
            with_id,
            &Scope::Verify,
            Activity::Verify,
        )
        .await
        {
            Ok(assumed) => break assumed,
            Err(AppError::Aws(AwsProblem::TrustDenied))
                if started.elapsed() + backoff <= state.config.verify_propagation =>
            {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            Err(AppError::Aws(problem)) => return Ok(Outcome::Failed(problem)),
            Err(other) => return Err(other),
        }
    };

    let identity = match assumed.sts().get_caller_identity().send().await {
        Ok(identity) => identity,
        Err(err) => return Ok(Outcome::Failed(failure(err).problem)),
    };
    if identity.account() != connection.account_id.as_deref() {
        return Ok(Outcome::Failed(AwsProblem::AccountMismatch));
    }
    drop(assumed);

    // AWS must refuse the role without the ExternalId; if it does not, the trust policy lacks
    // the condition and anyone who learns the ARN could make Crossview act on it.
    let without_id = RoleTarget {
        external_id: None,
        ..with_id
    };
    let open_trust = match assume_audited(
        state,
        user_id,
        connection.id,
        without_id,
        &Scope::Verify,
        Activity::VerifyWithoutExternalId,
    )
    .await
    {
        Ok(_) => true,
        Err(AppError::Aws(_)) => false,
        Err(other) => return Err(other),
    };
    Ok(Outcome::Verified { open_trust })
}

async fn store(state: &AppState, owner: i64, id: i64, outcome: &Outcome) -> Result<(), AppError> {
    let (status, error, warning) = match outcome {
        Outcome::Verified { open_trust } => ("verified", None, *open_trust),
        Outcome::Failed(problem) => ("failed", Some(problem.code()), false),
    };
    sqlx::query!(
        "update connections
         set status = $3, last_error = $4, trust_warning = $5,
             last_verified_at = case when $3 = 'verified' then now() else last_verified_at end
         where id = $1 and owner_id = $2",
        id,
        owner,
        status,
        error,
        warning
    )
    .execute(&state.pool)
    .await?;
    Ok(())
}
