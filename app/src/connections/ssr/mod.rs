//! Server side of connections: queries (every one filtered by owner), the audited assumption
//! that every AWS-touching request goes through, and verification.

pub mod admin;
pub mod bulk;
pub mod guide;
pub mod probe;
pub mod rotation;
pub mod verify;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{
    valid_external_id, Connection, RoleArn, Status, WriteAccess, UNVERIFIED_EXTERNAL_ID_HOURS,
};
use crate::{
    audit::{
        ssr::{record, Event},
        Activity, Outcome,
    },
    config::Config,
    error::{AppError, AwsProblem},
    format::rfc3339,
    state::AppState,
};

/// Length of a generated ExternalId: 40 characters of [A-Za-z0-9], about 238 bits.
const EXTERNAL_ID_LEN: usize = 40;

/// A fresh random ExternalId. Crossview chooses it so that no one can reuse another customer's.
pub fn generate_external_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut id = String::with_capacity(EXTERNAL_ID_LEN);
    while id.len() < EXTERNAL_ID_LEN {
        // Rejection sampling keeps every character equally likely (256 is not a multiple of 62).
        let byte = (OsRng.next_u32() & 0xff) as usize;
        if byte < 248 {
            id.push(ALPHABET[byte % 62] as char);
        }
    }
    id
}

fn valid_name(name: &str) -> Result<&str, AppError> {
    let name = name.trim();
    let ok = (1..=100).contains(&name.chars().count()) && !name.chars().any(char::is_control);
    ok.then_some(name).ok_or(AppError::ConnectionNameInvalid)
}

struct Row {
    id: i64,
    name: String,
    role_arn: Option<String>,
    external_id: String,
    account_id: Option<String>,
    status: String,
    trust_warning: bool,
    last_error: Option<String>,
    last_verified_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    s3_endpoint: Option<String>,
    sts_endpoint: Option<String>,
    read_only: bool,
    writes_allowed: i64,
    writes_refused: Vec<String>,
}

impl From<Row> for Connection {
    fn from(r: Row) -> Self {
        Connection {
            id: r.id,
            name: r.name,
            role_arn: r.role_arn,
            external_id: r.external_id,
            account_id: r.account_id,
            status: Status::from_stored(&r.status),
            trust_warning: r.trust_warning,
            last_error: r.last_error.as_deref().and_then(AwsProblem::from_code),
            last_verified_at: r.last_verified_at.map(rfc3339),
            created_at: rfc3339(r.created_at),
            s3_endpoint: r.s3_endpoint,
            sts_endpoint: r.sts_endpoint,
            read_only: r.read_only,
            writes: WriteAccess {
                allowed: r.writes_allowed,
                refused: r.writes_refused,
            },
        }
    }
}

pub async fn list(pool: &PgPool, owner: i64) -> Result<Vec<Connection>, AppError> {
    let rows = sqlx::query_as!(
        Row,
        r#"select id, name, role_arn, external_id, account_id,
                case when disabled_at is null then status else 'disabled' end as "status!",
                trust_warning, last_error, last_verified_at, created_at, s3_endpoint, sts_endpoint,
                read_only,
                (select count(*) from write_checks w where w.connection_id = c.id and w.writable)
                    as "writes_allowed!",
                array(select w.bucket || '/' || w.prefix from write_checks w
                      where w.connection_id = c.id and not w.writable order by 1) as "writes_refused!"
         from connections c where owner_id = $1 order by lower(name), id"#,
        owner
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Connection::from).collect())
}

/// Replaces the connection's ExternalId with a new one if Crossview generated it more than
/// [`UNVERIFIED_EXTERNAL_ID_HOURS`] ago and the connection was never verified: an ID pasted
/// somewhere and forgotten stops being an open invitation. The old one is retired (never given
/// again) and the change audited. Whether it did.
/// Crossview's own principal, the one customers' trust policies name.
pub async fn principal(state: &AppState) -> Result<String, AppError> {
    state
        .aws
        .own_principal_arn()
        .await
        .map_err(|f| AppError::Aws(f.problem))
}

pub async fn renew_unverified(pool: &PgPool, owner: i64, id: i64) -> Result<bool, AppError> {
    let renewed = sqlx::query(
        "with stale as (
             select id, external_id from connections
             where id = $1 and owner_id = $2 and external_id_renewable and last_verified_at is null
                 and external_id_issued_at < now() - make_interval(hours => $4)
             for update
         ), retired as (
             insert into retired_external_ids (external_id) select external_id from stale
             on conflict do nothing
         )
         update connections c
         set external_id = $3, external_id_issued_at = now(), status = 'pending',
             last_error = null, trust_warning = false
         from stale where c.id = stale.id",
    )
    .bind(id)
    .bind(owner)
    .bind(generate_external_id())
    .bind(UNVERIFIED_EXTERNAL_ID_HOURS)
    .execute(pool)
    .await?
    .rows_affected()
        > 0;
    if renewed {
        let detail = json!({ "reason": format!("not verified within {UNVERIFIED_EXTERNAL_ID_HOURS} hours") });
        record(pool, change(owner, id, Activity::ExternalIdRenew, detail)).await?;
    }
    Ok(renewed)
}

/// One of the owner's connections; anyone else's is `NotFound`, exactly like a missing one. A
/// generated ExternalId left unverified too long is replaced first ([`renew_unverified`]).
pub async fn get(pool: &PgPool, owner: i64, id: i64) -> Result<Connection, AppError> {
    renew_unverified(pool, owner, id).await?;
    let row = sqlx::query_as!(
        Row,
        r#"select id, name, role_arn, external_id, account_id,
                case when disabled_at is null then status else 'disabled' end as "status!",
                trust_warning, last_error, last_verified_at, created_at, s3_endpoint, sts_endpoint,
                read_only,
                (select count(*) from write_checks w where w.connection_id = c.id and w.writable)
                    as "writes_allowed!",
                array(select w.bucket || '/' || w.prefix from write_checks w
                      where w.connection_id = c.id and not w.writable order by 1) as "writes_refused!"
         from connections c where id = $1 and owner_id = $2"#,
        id,
        owner
    )
    .fetch_optional(pool)
    .await?;
    row.map(Connection::from).ok_or(AppError::NotFound)
}

pub async fn create(
    pool: &PgPool,
    config: &Config,
    owner: i64,
    (name, read_only): (&str, bool),
    custom_external_id: Option<&str>,
) -> Result<i64, AppError> {
    let name = valid_name(name)?;
    let external_id = match custom_external_id {
        // Only a deployment setting allows a user-chosen ID (confused-deputy risk).
        Some(_) if !config.allow_custom_external_id => return Err(AppError::Forbidden),
        Some(id) if !valid_external_id(id) => return Err(AppError::ExternalIdInvalid),
        Some(id) => id.to_owned(),
        None => generate_external_id(),
    };
    // A typed ExternalId is the user's own: it never expires.
    let id: i64 = sqlx::query_scalar(
        "insert into connections (owner_id, name, external_id, read_only, external_id_renewable)
         values ($1, $2, $3, $4, $5) returning id",
    )
    .bind(owner)
    .bind(name)
    .bind(&external_id)
    .bind(read_only)
    .bind(custom_external_id.is_none())
    .fetch_one(pool)
    .await
    .map_err(|err| match &err {
        sqlx::Error::Database(db) if db.constraint() == Some("connections_external_id_key") => {
            AppError::ExternalIdTaken
        }
        _ => AppError::from(err),
    })?;
    let detail = json!({
        "name": name,
        "custom_external_id": custom_external_id.is_some(),
        "access": crate::iam::mode(!read_only),
    });
    record(pool, change(owner, id, Activity::ConnectionCreate, detail)).await?;
    Ok(id)
}

/// Stores the role ARN; the connection is pending until verified again.
pub async fn set_role(pool: &PgPool, owner: i64, id: i64, arn: &RoleArn) -> Result<(), AppError> {
    let updated = sqlx::query!(
        "update connections
         set role_arn = $3, account_id = $4, status = 'pending', last_error = null, trust_warning = false
         where id = $1 and owner_id = $2",
        id,
        owner,
        arn.arn,
        arn.account_id
    )
    .execute(pool)
    .await?;
    owned_change(
        pool,
        updated.rows_affected(),
        owner,
        id,
        Activity::ConnectionSetRole,
        json!({ "role_arn": arn.arn }),
    )
    .await
}

pub async fn set_endpoints(
    pool: &PgPool,
    owner: i64,
    id: i64,
    s3: Option<&str>,
    sts: Option<&str>,
) -> Result<(), AppError> {
    let updated = sqlx::query!(
        "update connections
         set s3_endpoint = $3, sts_endpoint = $4, status = 'pending', last_error = null
         where id = $1 and owner_id = $2",
        id,
        owner,
        s3,
        sts
    )
    .execute(pool)
    .await?;
    owned_change(
        pool,
        updated.rows_affected(),
        owner,
        id,
        Activity::ConnectionSetEndpoints,
        json!({ "s3_endpoint": s3, "sts_endpoint": sts }),
    )
    .await
}

pub async fn rename(pool: &PgPool, owner: i64, id: i64, name: &str) -> Result<(), AppError> {
    let name = valid_name(name)?;
    let updated = sqlx::query!(
        "update connections set name = $3 where id = $1 and owner_id = $2",
        id,
        owner,
        name
    )
    .execute(pool)
    .await?;
    owned_change(
        pool,
        updated.rows_affected(),
        owner,
        id,
        Activity::ConnectionRename,
        json!({ "name": name }),
    )
    .await
}

/// Read-only (no change is sent to AWS, whatever the role allows) or read-write.
pub async fn set_access(
    pool: &PgPool,
    owner: i64,
    id: i64,
    read_only: bool,
) -> Result<(), AppError> {
    let updated = sqlx::query(
        "update connections set read_only = $3
         where id = $1 and owner_id = $2 and read_only <> $3",
    )
    .bind(id)
    .bind(owner)
    .bind(read_only)
    .execute(pool)
    .await?;
    if updated.rows_affected() == 0 {
        // Unchanged, or not theirs: the first changes nothing, the second is `NotFound`.
        return get(pool, owner, id).await.map(drop);
    }
    owned_change(
        pool,
        1,
        owner,
        id,
        Activity::ConnectionSetAccess,
        json!({ "access": crate::iam::mode(!read_only) }),
    )
    .await
}

pub async fn delete(pool: &PgPool, owner: i64, id: i64) -> Result<(), AppError> {
    let deleted = sqlx::query!(
        "delete from connections where id = $1 and owner_id = $2",
        id,
        owner
    )
    .execute(pool)
    .await?;
    owned_change(
        pool,
        deleted.rows_affected(),
        owner,
        id,
        Activity::ConnectionDelete,
        json!({}),
    )
    .await
}

fn change(
    actor: i64,
    connection: i64,
    action: Activity,
    detail: serde_json::Value,
) -> Event<'static> {
    Event {
        actor_id: Some(actor),
        connection_id: Some(connection),
        detail: Some(detail),
        ..Event::new(action, Outcome::Ok)
    }
}

/// After an owner-filtered write: no row means not the owner's (or gone), else audit the change.
async fn owned_change(
    pool: &PgPool,
    rows: u64,
    owner: i64,
    id: i64,
    action: Activity,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    if rows == 0 {
        return Err(AppError::NotFound);
    }
    record(pool, change(owner, id, action, detail)).await
}

#[cfg(test)]
mod tests;
