//! Verification: the role trusts Crossview with the ExternalId, belongs to the account in its
//! ARN, and does *not* trust Crossview with any other ExternalId or without one.

use std::time::{Duration, Instant};

use super::{generate_external_id, get};
use crate::{
    audit::Activity,
    aws::{
        access::{assume_audited, charge, session_name},
        failure, RoleTarget, Scope,
    },
    connections::{Connection, Status},
    error::{AppError, AwsProblem},
    state::AppState,
};

/// The first wait between attempts while a new role propagates; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// How a verification ended, before it is stored.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Verified,
    Failed(AwsProblem),
}

pub async fn verify(state: &AppState, user_id: i64, id: i64) -> Result<Connection, AppError> {
    let connection = get(&state.pool, user_id, id).await?;
    check_and_store(state, user_id, user_id, &connection).await?;
    get(&state.pool, user_id, id).await
}

/// Verifies `connection` of `owner` for `actor` (the owner, or an administrator's re-check:
/// the assumptions are audited as theirs and CloudTrail names them) and stores the outcome.
pub async fn check_and_store(
    state: &AppState,
    actor: i64,
    owner: i64,
    connection: &Connection,
) -> Result<Outcome, AppError> {
    if connection.status == Status::Disabled {
        return Err(AppError::ConnectionDisabled);
    }
    let role_arn = connection
        .role_arn
        .clone()
        .ok_or(AppError::RoleArnMissing)?;
    // Retries while IAM propagates are one check: one assumption charged.
    charge(state, actor, false).await?;
    let progress = Progress {
        state,
        connection: connection.id,
    };
    progress.at(Step::Assume).await;
    let outcome = check(state, actor, connection, &role_arn, &progress).await;
    if let Ok(Outcome::Verified) = outcome {
        progress.at(Step::Writes).await;
        let name = session_name(actor);
        super::probe::learn(
            state,
            actor,
            connection,
            target(connection, &role_arn, &name),
        )
        .await;
    }
    progress.done().await;
    let outcome = outcome?;
    store(state, owner, connection, &role_arn, &outcome).await?;
    Ok(outcome)
}

/// A verification's steps, as the page that waits on it names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// AssumeRole with the connection's ExternalId.
    Assume,
    /// Refused so far: waiting for IAM to propagate a role created moments ago.
    Propagating,
    /// The role's account is the one in its ARN.
    Account,
    /// AssumeRole with another ExternalId must be refused.
    WrongExternalId,
    /// AssumeRole without one must be refused.
    WithoutExternalId,
    /// Verified: where the role may write is probed.
    Writes,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Assume => "assume",
            Step::Propagating => "propagating",
            Step::Account => "account",
            Step::WrongExternalId => "wrong_external_id",
            Step::WithoutExternalId => "without_external_id",
            Step::Writes => "writes",
        }
    }
}

/// Where a running verification is, kept on the connection's row: the page polls it, and any
/// instance may answer the poll. Failing to note progress never fails the check.
pub(super) struct Progress<'a> {
    state: &'a AppState,
    connection: i64,
}

impl Progress<'_> {
    async fn at(&self, step: Step) {
        let noted = sqlx::query(
            "update connections set verify_step = $2,
                    verify_started_at = case when $2 = 'assume' then now()
                                             else coalesce(verify_started_at, now()) end
             where id = $1",
        )
        .bind(self.connection)
        .bind(step.name())
        .execute(&self.state.pool)
        .await;
        if let Err(err) = noted {
            tracing::warn!(error = %err, "verification progress not noted");
        }
    }

    async fn done(&self) {
        let cleared = sqlx::query(
            "update connections set verify_step = null, verify_started_at = null where id = $1",
        )
        .bind(self.connection)
        .execute(&self.state.pool)
        .await;
        if let Err(err) = cleared {
            tracing::warn!(error = %err, "verification progress not cleared");
        }
    }
}

/// The owner's running verification of `id`, if one runs: its step and how long it has run.
pub async fn progress(
    state: &AppState,
    owner: i64,
    id: i64,
) -> Result<Option<crate::connections::VerifyProgress>, AppError> {
    let row: Option<(Option<String>, Option<f64>)> = sqlx::query_as(
        "select verify_step, extract(epoch from now() - verify_started_at)::float8
         from connections where id = $1 and owner_id = $2",
    )
    .bind(id)
    .bind(owner)
    .fetch_optional(&state.pool)
    .await?;
    let (step, elapsed) = row.ok_or(AppError::NotFound)?;
    Ok(step.map(|step| crate::connections::VerifyProgress {
        step,
        elapsed_secs: elapsed.unwrap_or_default().max(0.0) as u64,
        wait_secs: state.config.verify_propagation.as_secs(),
    }))
}

/// The role under the connection's ExternalId, assumed by the session `name`.
pub fn target<'a>(connection: &'a Connection, role_arn: &'a str, name: &'a str) -> RoleTarget<'a> {
    RoleTarget {
        role_arn,
        external_id: Some(&connection.external_id),
        session_name: name,
        endpoints: connection.endpoints(),
        location: None,
    }
}

async fn check(
    state: &AppState,
    user_id: i64,
    connection: &Connection,
    role_arn: &str,
    progress: &Progress<'_>,
) -> Result<Outcome, AppError> {
    let name = session_name(user_id);
    let with_id = target(connection, role_arn, &name);

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
            None,
        )
        .await
        {
            Ok(assumed) => break assumed,
            Err(AppError::Aws(AwsProblem::TrustDenied))
                if started.elapsed() + backoff <= state.config.verify_propagation =>
            {
                progress.at(Step::Propagating).await;
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            Err(AppError::Aws(problem)) => return Ok(Outcome::Failed(problem)),
            Err(other) => return Err(other),
        }
    };

    progress.at(Step::Account).await;
    let identity = match assumed.sts().get_caller_identity().send().await {
        Ok(identity) => identity,
        Err(err) => return Ok(Outcome::Failed(failure(err).problem)),
    };
    if identity.account() != connection.account_id.as_deref() {
        return Ok(Outcome::Failed(AwsProblem::AccountMismatch));
    }
    drop(assumed);

    Ok(
        refuses_others(state, user_id, connection.id, with_id, Some(progress))
            .await?
            .map_or(Outcome::Verified, Outcome::Failed),
    )
}

/// Whether AWS refuses the role under any other ExternalId, and under none: the problem when it
/// does not. If either attempt succeeds, the trust policy does not pin the connection's IDs (no
/// condition, `Null`, `StringLike "*"`) and anyone who learns the ARN could make Crossview act
/// on it: the connection is refused.
pub(super) async fn refuses_others(
    state: &AppState,
    user_id: i64,
    connection: i64,
    with_id: RoleTarget<'_>,
    progress: Option<&Progress<'_>>,
) -> Result<Option<AwsProblem>, AppError> {
    let wrong_id = generate_external_id();
    let attempts = [
        (
            Some(wrong_id.as_str()),
            Activity::VerifyWrongExternalId,
            Step::WrongExternalId,
        ),
        (
            None,
            Activity::VerifyWithoutExternalId,
            Step::WithoutExternalId,
        ),
    ];
    for (external_id, activity, step) in attempts {
        if let Some(progress) = progress {
            progress.at(step).await;
        }
        let target = RoleTarget {
            external_id,
            ..with_id
        };
        match assume_audited(
            state,
            user_id,
            connection,
            target,
            &Scope::Verify,
            activity,
            None,
        )
        .await
        {
            Ok(_) => return Ok(Some(AwsProblem::TrustTooOpen)),
            // Only a refusal proves the condition holds; throttling or an unreachable STS
            // proves nothing, and the connection stays unverified until a check completes.
            Err(AppError::Aws(AwsProblem::TrustDenied)) => {}
            Err(AppError::Aws(_)) => return Ok(Some(AwsProblem::CheckIncomplete)),
            Err(other) => return Err(other),
        }
    }
    Ok(None)
}

/// Stores the outcome, only if the connection still has the role and the endpoints that were
/// checked (compare and set): a role ARN or an endpoint changed while the check ran must never
/// end up marked verified.
pub(super) async fn store(
    state: &AppState,
    owner: i64,
    connection: &Connection,
    role_arn: &str,
    outcome: &Outcome,
) -> Result<(), AppError> {
    let (status, error) = match outcome {
        Outcome::Verified => ("verified", None),
        Outcome::Failed(problem) => ("failed", Some(problem.code())),
    };
    let open_trust = *outcome == Outcome::Failed(AwsProblem::TrustTooOpen);
    sqlx::query(
        "update connections
         set status = $5, last_error = $6, trust_warning = $7,
             last_verified_at = case when $5 = 'verified' then now() else last_verified_at end
         where id = $1 and owner_id = $2 and role_arn = $3 and external_id = $4
           and s3_endpoint is not distinct from $8 and sts_endpoint is not distinct from $9",
    )
    .bind(connection.id)
    .bind(owner)
    .bind(role_arn)
    .bind(&connection.external_id)
    .bind(status)
    .bind(error)
    .bind(open_trust)
    .bind(&connection.s3_endpoint)
    .bind(&connection.sts_endpoint)
    .execute(&state.pool)
    .await?;
    Ok(())
}
