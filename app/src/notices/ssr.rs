//! The account's notices on the server: listed, counted and marked read. They are written by
//! `notify`.

use sqlx::PgPool;
use time::OffsetDateTime;

use super::Notice;
use crate::{error::AppError, format::rfc3339};

/// The account's notices, newest first.
pub async fn list(pool: &PgPool, user: i64) -> Result<Vec<Notice>, AppError> {
    type Row = (
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
        OffsetDateTime,
        bool,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "select id, subject, body, link_label, link_path, created_at, read_at is not null
             from notices where user_id = $1 order by id desc",
    )
    .bind(user)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, subject, body, label, path, at, read)| Notice {
            id,
            subject,
            body,
            link: label.zip(path),
            created_at: rfc3339(at),
            read,
        })
        .collect())
}

/// Marks every notice of the account read, up to `last` (the newest the reader saw: one that
/// arrived since stays unread).
pub async fn mark_read(pool: &PgPool, user: i64, last: i64) -> Result<(), AppError> {
    sqlx::query(
        "update notices set read_at = now()
         where user_id = $1 and id <= $2 and read_at is null",
    )
    .bind(user)
    .bind(last)
    .execute(pool)
    .await?;
    Ok(())
}
