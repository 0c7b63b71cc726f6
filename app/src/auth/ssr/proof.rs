//! Whether this session proved its user lately: the mark a sign-in or a step-up leaves in the
//! session, read by everything that needs a fresh proof. Kept apart from `step_up` (which asks
//! for a proof and checks it with the factors) so that `factors`, which leaves the mark at
//! sign-in, and `step_up` do not import each other; `step_up` re-exports it.

use super::AuthSession;
use crate::error::AppError;

/// Session key: when this session last proved its user (unix seconds).
const PROVED_AT: &str = "crossview.proved_at";
/// How long a proof counts.
pub const FRESH_SECS: i64 = 600;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Notes that this session's user proved who they are just now.
pub async fn mark(auth: &AuthSession) -> Result<(), AppError> {
    auth.session
        .insert(PROVED_AT, now())
        .await
        .map_err(AppError::internal)
}

/// Forgets any proof this session held (a sign-in through a reset link proves nothing).
pub async fn forget(auth: &AuthSession) -> Result<(), AppError> {
    auth.session
        .remove::<i64>(PROVED_AT)
        .await
        .map(drop)
        .map_err(AppError::internal)
}

/// Whether this session proved its user within the last 10 minutes.
pub async fn is_fresh(auth: &AuthSession) -> Result<bool, AppError> {
    let at: Option<i64> = auth
        .session
        .get(PROVED_AT)
        .await
        .map_err(AppError::internal)?;
    Ok(at.is_some_and(|at| now().saturating_sub(at) < FRESH_SECS))
}

/// Refuses with `StepUpRequired` unless the session is fresh.
pub async fn require(auth: &AuthSession) -> Result<(), AppError> {
    match is_fresh(auth).await? {
        true => Ok(()),
        false => Err(AppError::StepUpRequired),
    }
}
