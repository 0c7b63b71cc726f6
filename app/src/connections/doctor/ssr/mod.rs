//! Running the doctor: one assumption (audited `connection.doctor`) whose session policy allows
//! reading bucket configuration, listing one key, heading it and asking KMS for a data key —
//! nothing that changes anything; the write probe's own assumption before it. Each bucket is
//! examined by [`probes`], the findings and their fixes written by [`fixes`]; the report replaces
//! the connection's last one in Postgres (plain metadata: no credential is in it).

pub mod cors;
mod fixes;
mod links;
mod probes;
mod reads;

use futures::{stream, StreamExt};
use sqlx::PgPool;

use super::Report;
use crate::{
    audit::Activity,
    aws::{
        access::{assume_audited, charge, session_name, USER_PLACEHOLDER},
        Scope,
    },
    connections::{
        ssr::{
            probe::{self, MOST_BUCKETS},
            verify::target,
        },
        Connection, Status,
    },
    error::{AppError, AwsProblem},
    state::AppState,
};

/// Buckets examined at once.
const AT_ONCE: usize = 4;
/// Connections an administrator's run over all of them checks at once.
const CONNECTIONS_AT_ONCE: usize = 4;

/// Examines `connection` for `actor` (its owner, or an administrator) and stores the report;
/// `probe_writes` first learns afresh where the role may write (a verification just did).
pub async fn run(
    state: &AppState,
    actor: i64,
    connection: &Connection,
    origin: &str,
    probe_writes: bool,
) -> Result<Report, AppError> {
    match connection.status {
        Status::Disabled => return Err(AppError::ConnectionDisabled),
        Status::Verified => {}
        _ => return Err(AppError::ConnectionNotVerified),
    }
    let role_arn = connection
        .role_arn
        .as_deref()
        .ok_or(AppError::RoleArnMissing)?;
    charge(state, actor, false).await?;
    let name = session_name(actor);
    if probe_writes {
        // Its own assumption; nothing is written.
        probe::learn(
            state,
            actor,
            connection,
            target(connection, role_arn, &name),
        )
        .await;
    }
    let places = places(&state.pool, connection.id).await?;
    // The session lasts as long as a download's URL, so that AWS says now whether it may.
    let lifetime = state.config.presign_seconds;
    let name = &name;
    let assume = |url_seconds| {
        let scope = Scope::Doctor {
            places: places.clone(),
            url_seconds,
        };
        async move {
            let to = target(connection, role_arn, name);
            assume_audited(
                state,
                actor,
                connection.id,
                to,
                &scope,
                Activity::Doctor,
                None,
            )
            .await
        }
    };
    let mut assumed = assume(lifetime).await;
    let session_short = matches!(assumed, Err(AppError::Aws(AwsProblem::SessionTooShort)));
    if session_short {
        // The rest of the checkup needs no long session.
        assumed = assume(0).await;
    }
    let report = match assumed {
        Ok(assumed) => {
            let (places, more) = match places.is_empty() {
                false => (places, false),
                true => {
                    let buckets = probe::buckets(state, &assumed, connection.id).await?;
                    let more = buckets.len() >= MOST_BUCKETS as usize;
                    (buckets, more)
                }
            };
            let writes = writes(&state.pool, connection.id).await?;
            let context = reads::Context {
                state,
                assumed: &assumed,
                connection,
                role_arn,
                origin,
                writes: &writes,
                session_short,
            };
            let examined: Vec<_> = stream::iter(places)
                .map(|(bucket, prefix)| probes::examine(&context, bucket, prefix))
                .buffered(AT_ONCE)
                .collect()
                .await;
            let (buckets, findings): (Vec<_>, Vec<_>) = examined.into_iter().unzip();
            let mut findings: Vec<_> = findings.into_iter().flatten().collect();
            if session_short {
                findings.push(fixes::session_short(role_arn, lifetime));
            }
            findings.extend(retired_admitted(state, actor, connection, role_arn).await?);
            Report {
                checked_at: String::new(),
                stopped: buckets
                    .is_empty()
                    .then(|| "The role lists no bucket, and none was added by name.".to_owned()),
                buckets,
                more,
                findings,
            }
        }
        Err(AppError::Aws(problem)) => stopped(problem),
        Err(other) => return Err(other),
    };
    store(&state.pool, connection.id, actor, &report).await?;
    Ok(report)
}

/// The doctor's run that follows a verification that succeeded (the write probe just ran); a
/// failure is logged and leaves the last report as it was: the verification stands.
pub async fn after_verification(state: &AppState, owner: i64, connection: &Connection) {
    if connection.status != Status::Verified {
        return;
    }
    let origin = crate::call::browser_origin(&state.config);
    if let Err(err) = run(state, owner, connection, &origin, false).await {
        tracing::warn!(error = %err, connection = connection.id, "the doctor did not run after verification");
    }
}

/// The ExternalIds this connection's rotations retired (the last three) that the role still
/// admits: each assumption with one is audited, and one that succeeds is a finding.
async fn retired_admitted(
    state: &AppState,
    actor: i64,
    connection: &Connection,
    role_arn: &str,
) -> Result<Vec<super::Finding>, AppError> {
    let retired: Vec<String> = sqlx::query_scalar(
        "select external_id from retired_external_ids where connection_id = $1
         order by retired_at desc limit 3",
    )
    .bind(connection.id)
    .fetch_all(&state.pool)
    .await?;
    let name = session_name(actor);
    let mut findings = Vec::new();
    for old in retired {
        let with_old = crate::aws::RoleTarget {
            external_id: Some(&old),
            ..target(connection, role_arn, &name)
        };
        let assumed = assume_audited(
            state,
            actor,
            connection.id,
            with_old,
            &Scope::Verify,
            Activity::VerifyRetiredExternalId,
            None,
        )
        .await;
        if assumed.is_ok() {
            let principal = crate::connections::ssr::principal(state).await?;
            findings.push(fixes::retired(
                &old,
                &principal,
                &connection.external_id,
                role_arn,
            ));
        }
    }
    Ok(findings)
}

fn stopped(problem: AwsProblem) -> Report {
    Report {
        checked_at: String::new(),
        buckets: Vec::new(),
        more: false,
        findings: Vec::new(),
        stopped: Some(problem.to_string()),
    }
}

/// The connection's locations (a per-user one, `home/{user}/`, is a different place for each
/// user: not examined); none when it has none.
async fn places(pool: &PgPool, connection: i64) -> Result<Vec<(String, String)>, AppError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select bucket, prefix from locations where connection_id = $1 order by bucket, prefix",
    )
    .bind(connection)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, prefix)| !prefix.contains(USER_PLACEHOLDER))
        .collect())
}

/// What the write probe learnt: `(bucket, prefix, writable)`.
async fn writes(pool: &PgPool, connection: i64) -> Result<Vec<(String, String, bool)>, AppError> {
    Ok(
        sqlx::query_as(
            "select bucket, prefix, writable from write_checks where connection_id = $1",
        )
        .bind(connection)
        .fetch_all(pool)
        .await?,
    )
}

async fn store(
    pool: &PgPool,
    connection: i64,
    actor: i64,
    report: &Report,
) -> Result<(), AppError> {
    let health = serde_json::to_value(report.status()).map_err(AppError::internal)?;
    let body = serde_json::to_value(report).map_err(AppError::internal)?;
    sqlx::query(
        "insert into doctor_reports (connection_id, checked_by, health, report)
         values ($1, $2, $3, $4)
         on conflict (connection_id) do update
         set checked_at = now(), checked_by = $2, health = $3, report = $4",
    )
    .bind(connection)
    .bind(actor)
    .bind(health)
    .bind(body)
    .execute(pool)
    .await?;
    Ok(())
}

/// The connection's last report; `None` before the doctor's first run.
pub async fn load(pool: &PgPool, connection: i64) -> Result<Option<Report>, AppError> {
    let row: Option<(serde_json::Value, time::OffsetDateTime)> =
        sqlx::query_as("select report, checked_at from doctor_reports where connection_id = $1")
            .bind(connection)
            .fetch_optional(pool)
            .await?;
    row.map(|(report, at)| {
        let mut report: Report = serde_json::from_value(report).map_err(AppError::internal)?;
        report.checked_at = crate::format::rfc3339(at);
        Ok(report)
    })
    .transpose()
}

/// An administrator's run on one connection, or on every verified one (bounded parallelism);
/// how many were checked.
pub async fn admin_run(
    state: &AppState,
    admin: i64,
    id: Option<i64>,
    origin: &str,
) -> Result<usize, AppError> {
    let owners: Vec<(i64, i64)> = sqlx::query_as(
        "select id, owner_id from connections
         where ($1::bigint is null and status = 'verified' and disabled_at is null) or id = $1
         order by id",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    if id.is_some() && owners.is_empty() {
        return Err(AppError::NotFound);
    }
    let results: Vec<Result<(), AppError>> = stream::iter(owners)
        .map(|(id, owner)| async move {
            let connection = crate::connections::ssr::get(&state.pool, owner, id).await?;
            run(state, admin, &connection, origin, true)
                .await
                .map(|_| ())
        })
        .buffer_unordered(CONNECTIONS_AT_ONCE)
        .collect()
        .await;
    // One connection: its failure is the answer. All of them: each is in its own report.
    match id {
        Some(_) => results
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map(|r| r.len()),
        None => Ok(results.iter().filter(|r| r.is_ok()).count()),
    }
}
