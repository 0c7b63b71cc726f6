use sqlx::PgPool;

use super::{ConnectionRow, UserRow};
use crate::{error::AppError, format::rfc3339};

pub async fn list_users(pool: &PgPool) -> Result<Vec<UserRow>, AppError> {
    let rows =
        sqlx::query!("select id, email, is_admin, disabled, created_at from users order by id")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|r| UserRow {
            id: r.id,
            email: r.email,
            is_admin: r.is_admin,
            disabled: r.disabled,
            created_at: rfc3339(r.created_at),
        })
        .collect())
}

pub async fn all_connections(pool: &PgPool) -> Result<Vec<ConnectionRow>, AppError> {
    let rows = sqlx::query_as!(
        ConnectionRow,
        "select c.id, u.email as owner, c.name, c.account_id, c.status, c.trust_warning
         from connections c join users u on u.id = c.owner_id
         order by c.id"
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}
