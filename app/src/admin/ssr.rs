//! What the admin pages read and change. Every change is audited with the admin as actor, in
//! the same transaction as the change.

use sqlx::PgPool;

use super::{ConnectionQuery, ConnectionRow, JunkCount, ListPage, UserQuery, UserRow};
use crate::{
    audit::Activity,
    connections::{doctor::Checkup, Status},
    error::AppError,
    format::rfc3339,
};

/// Rows per page of the user and connection lists.
const PAGE: i64 = 50;

/// Cuts a fetched page (one row more than shown) and says where the next starts.
fn paged<T>(mut rows: Vec<T>, id: impl Fn(&T) -> i64) -> ListPage<T> {
    let next = (rows.len() as i64 > PAGE).then(|| {
        rows.truncate(PAGE as usize);
        rows.last().map(&id).unwrap_or_default()
    });
    ListPage { rows, next }
}

/// Users whose email contains `q.email`, by id, `PAGE` at a time after `q.after`.
pub async fn users(pool: &PgPool, q: &UserQuery) -> Result<ListPage<UserRow>, AppError> {
    select_users(pool, q, None).await
}

pub async fn user(pool: &PgPool, id: i64) -> Result<UserRow, AppError> {
    let mut page = select_users(pool, &UserQuery::default(), Some(id)).await?;
    page.rows.pop().ok_or(AppError::NotFound)
}

/// The user list's one query: `only` picks a single user.
async fn select_users(
    pool: &PgPool,
    q: &UserQuery,
    only: Option<i64>,
) -> Result<ListPage<UserRow>, AppError> {
    let pattern = format!("%{}%", like_escape(&q.email.trim().to_lowercase()));
    let rows = sqlx::query!(
        r#"select u.id, u.email, u.is_admin, u.disabled, u.created_at, u.last_sign_in_at,
                  (select count(*) from connections c where c.owner_id = u.id) as "connections!"
           from users u
           where lower(u.email) like $1 escape '\' and u.id > $2
             and ($4::bigint is null or u.id = $4)
           order by u.id limit $3"#,
        pattern,
        q.after,
        PAGE + 1,
        only
    )
    .fetch_all(pool)
    .await?;
    let rows = rows
        .into_iter()
        .map(|r| UserRow {
            id: r.id,
            email: r.email,
            is_admin: r.is_admin,
            disabled: r.disabled,
            created_at: rfc3339(r.created_at),
            last_sign_in_at: r.last_sign_in_at.map(rfc3339),
            connections: r.connections,
        })
        .collect();
    Ok(paged(rows, |u: &UserRow| u.id))
}

/// Connections matching the filters, by id.
pub async fn connections(
    pool: &PgPool,
    q: &ConnectionQuery,
) -> Result<ListPage<ConnectionRow>, AppError> {
    select_connections(pool, q, None).await
}

pub async fn connection(pool: &PgPool, id: i64) -> Result<ConnectionRow, AppError> {
    let mut page = select_connections(pool, &ConnectionQuery::default(), Some(id)).await?;
    page.rows.pop().ok_or(AppError::NotFound)
}

/// The connection list's one query (`only` picks a single connection). The last use and the
/// last 24 hours' counts come from the audit trail's (connection, time) index, which carries
/// the class and action.
async fn select_connections(
    pool: &PgPool,
    q: &ConnectionQuery,
    only: Option<i64>,
) -> Result<ListPage<ConnectionRow>, AppError> {
    let text = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let assumptions: Vec<String> = Activity::ALL
        .iter()
        .filter(|a| a.assumes_role())
        .flat_map(|a| crate::audit::stored_names(a.name()))
        .collect();
    let rows = sqlx::query!(
        r#"select c.id, c.owner_id, u.email as owner, c.name, c.account_id, c.role_arn,
                  case when c.disabled_at is null then c.status else 'disabled' end as "status!",
                  c.trust_warning, c.last_verified_at,
                  (select max(e.at) from audit_events e where e.connection_id = c.id) as last_used_at,
                  day.assumptions as "assumptions!", day.refusals as "refusals!"
           from connections c join users u on u.id = c.owner_id,
           lateral (select count(*) filter (where e.action = any($6)) as assumptions,
                           count(*) filter (where e.class = 'refused') as refusals
                    from audit_events e
                    where e.connection_id = c.id and e.at > now() - interval '24 hours') day
           where ($1::bigint is null or c.owner_id = $1)
             and ($2::text is null or lower(u.email) = lower($2))
             and ($3::text is null or c.account_id = $3)
             and ($4::text is null or (case when c.disabled_at is null then c.status else 'disabled' end) = $4)
             and c.id > $5 and ($8::bigint is null or c.id = $8)
           order by c.id limit $7"#,
        q.owner_id,
        text(&q.owner),
        text(&q.account),
        text(&q.status),
        q.after,
        &assumptions[..],
        PAGE + 1,
        only
    )
    .fetch_all(pool)
    .await?;
    let rows = rows
        .into_iter()
        .map(|r| ConnectionRow {
            id: r.id,
            owner_id: r.owner_id,
            owner: r.owner,
            name: r.name,
            account_id: r.account_id,
            role_arn: r.role_arn,
            status: Status::from_stored(&r.status),
            trust_warning: r.trust_warning,
            last_verified_at: r.last_verified_at.map(rfc3339),
            last_used_at: r.last_used_at.map(rfc3339),
            assumptions_24h: r.assumptions,
            refusals_24h: r.refusals,
            checkup: None,
        })
        .collect();
    Ok(paged(
        with_checkups(pool, rows).await?,
        |c: &ConnectionRow| c.id,
    ))
}

/// Each connection's last doctor's run, when it has had one: its health and time.
async fn with_checkups(
    pool: &PgPool,
    mut rows: Vec<ConnectionRow>,
) -> Result<Vec<ConnectionRow>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let checkups: Vec<(i64, serde_json::Value, time::OffsetDateTime)> = sqlx::query_as(
        "select connection_id, health, checked_at from doctor_reports where connection_id = any($1)",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    for (id, health, checked_at) in checkups {
        let (Some(row), Ok(health)) = (
            rows.iter_mut().find(|r| r.id == id),
            serde_json::from_value(health),
        ) else {
            continue;
        };
        row.checkup = Some(Checkup {
            health,
            checked_at: rfc3339(checked_at),
        });
    }
    Ok(rows)
}

/// Failed sign-ins and unknown share tokens, per day, the last week.
pub async fn junk(pool: &PgPool) -> Result<Vec<JunkCount>, AppError> {
    let rows = sqlx::query_as!(
        JunkCount,
        r#"select day::text as "day!", kind, n from anonymous_counts
           where day > current_date - 7 order by day desc, kind"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// `%`, `_` and `\` taken literally in a `like` pattern.
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
