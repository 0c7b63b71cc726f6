//! Share links on the server: random tokens whose SHA-256 alone is stored, checked on each use
//! ([`open`]); links to folders ([`folder`]); the rules a link is made with ([`rules`]).

pub mod folder;
mod open;
mod rules;

pub use open::{landing, open, Holder, Visit, Visitor};
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{NewShare, ShareLink, ShareRules};
use crate::{
    audit::{
        ssr::{record, Event},
        Activity, Outcome,
    },
    auth::ssr::hashing,
    aws::{
        access::{assume_for, Target},
        region::folder_page,
        Scope,
    },
    error::AppError,
    format::rfc3339,
    iam::Action,
    state::AppState,
    token,
};

/// Makes a link under `rules` (checked before the role is assumed); the owner is told when it
/// is opened if they asked (at most once an hour). The password is kept as its Argon2 hash.
pub async fn create(target: &Target<'_>, rules: &ShareRules) -> Result<NewShare, AppError> {
    let checked = rules::check(&target.state.config, rules)?;
    // The role must be able to read the object (list the folder) now, or the link would only
    // ever fail.
    let (role, size, content_type) = match target.key.ends_with('/') {
        false => {
            let (role, assumed) = target
                .assume(vec![Action::GetObject], Activity::ShareCreate)
                .await?;
            let arn = target.arn(&role);
            let (head, _) = target.head(&assumed, &arn).await?;
            let content_type = head
                .content_type()
                .filter(|t| t.len() <= 255 && !t.chars().any(char::is_control))
                .map(str::to_owned);
            (role, head.content_length(), content_type)
        }
        true => {
            let scope = Scope::ListBucket {
                bucket: target.bucket.to_owned(),
                prefix: target.key.to_owned(),
            };
            let (role, assumed) =
                assume_for(target.state, target.user, target.connection, &scope).await?;
            let arn = role.bucket_arn(target.bucket);
            let bucket = (target.bucket, arn.as_str());
            folder_page(target.state, &assumed, bucket, target.key, 1, None).await?;
            (role, None, None)
        }
    };
    let password_hash = match checked.password {
        None => None,
        Some(password) => Some(
            hashing::run(move || hashing::hash(password.as_bytes()))
                .await?
                .map_err(AppError::internal)?,
        ),
    };
    let token = token::new();
    // A link made under a teammate's grant names it, and dies with it.
    let grant = role
        .within
        .as_ref()
        .and_then(|w| w.via)
        .map(|via| via.grant);
    sqlx::query(
        "insert into share_links (token_hash, owner_id, connection_id, bucket, key, expires_at,
                                  grant_id, notify_open, size, content_type, password_hash,
                                  max_downloads, networks, people)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                 (select array_agg(network(n)) from unnest($13::inet[]) n), $14)",
    )
    .bind(token::digest(&token))
    .bind(target.user)
    .bind(target.connection)
    .bind(target.bucket)
    .bind(target.key)
    .bind(checked.expires_at)
    .bind(grant)
    .bind(rules.notify)
    .bind(size)
    .bind(content_type)
    .bind(&password_hash)
    .bind(checked.max_downloads)
    .bind(&checked.networks)
    .bind(&checked.people)
    .execute(&target.state.pool)
    .await?;
    let result: Result<(), AppError> = Ok(());
    let detail = json!({
        "expires_at": checked.expires_at.map(rfc3339),
        "password": password_hash.is_some(),
        "max_downloads": checked.max_downloads,
        "networks": checked.networks,
        "people": checked.people,
    });
    target
        .audit(&role, Activity::ShareCreate, &result, detail)
        .await?;
    let path = format!("/s/{token}");
    let origin = crate::call::browser_origin(&target.state.config);
    Ok(NewShare {
        qr_svg: crate::qr::svg(&format!("{origin}{path}"))?,
        path,
        expires_at: checked.expires_at.map(rfc3339),
    })
}

/// A link as its owner's list reads it.
#[derive(sqlx::FromRow)]
struct Listed {
    id: i64,
    connection_id: i64,
    bucket: String,
    key: String,
    expires_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    revoked: bool,
    notify_open: bool,
    password: bool,
    downloads: i32,
    max_downloads: Option<i32>,
    networks: Vec<String>,
    people: Vec<String>,
}

pub async fn list(pool: &PgPool, user: i64) -> Result<Vec<ShareLink>, AppError> {
    let rows: Vec<Listed> = sqlx::query_as(
        "select id, connection_id, bucket, key, expires_at, created_at,
                revoked_at is not null as revoked, notify_open,
                password_hash is not null as password, downloads, max_downloads,
                coalesce(networks::text[], '{}') as networks, coalesce(people, '{}') as people
         from share_links where owner_id = $1 order by created_at desc, id desc limit 500",
    )
    .bind(user)
    .fetch_all(pool)
    .await?;
    let now = OffsetDateTime::now_utc();
    Ok(rows
        .into_iter()
        .map(|l| ShareLink {
            id: l.id,
            connection: l.connection_id,
            bucket: l.bucket,
            key: l.key,
            expired: l.expires_at.is_some_and(|at| at <= now),
            expires_at: l.expires_at.map(rfc3339),
            created_at: rfc3339(l.created_at),
            revoked: l.revoked,
            notify: l.notify_open,
            password: l.password,
            downloads: l.downloads.unsigned_abs(),
            max_downloads: l.max_downloads.map(i32::unsigned_abs),
            networks: l.networks,
            people: l.people,
        })
        .collect())
}

/// Gives one of `user`'s links, not revoked, a new deadline (`hours` from now, or none where
/// the deployment allows it); an expired link works again. Audited.
pub async fn change_expiry(
    state: &AppState,
    user: i64,
    id: i64,
    hours: Option<u32>,
) -> Result<(), AppError> {
    let expires_at = rules::deadline(&state.config, hours)?;
    let link: (i64, String, String) = sqlx::query_as(
        "update share_links set expires_at = $3
         where id = $1 and owner_id = $2 and revoked_at is null
         returning connection_id, bucket, key",
    )
    .bind(id)
    .bind(user)
    .bind(expires_at)
    .fetch_optional(&state.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    let detail = json!({ "link": id, "expires_at": expires_at.map(rfc3339) });
    owner_event(&state.pool, user, Activity::ShareExpiry, &link, detail).await
}

pub async fn revoke(pool: &PgPool, user: i64, id: i64) -> Result<(), AppError> {
    let link: (i64, String, String) = sqlx::query_as(
        "update share_links set revoked_at = now()
         where id = $1 and owner_id = $2 and revoked_at is null
         returning connection_id, bucket, key",
    )
    .bind(id)
    .bind(user)
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::NotFound)?;
    owner_event(
        pool,
        user,
        Activity::ShareRevoke,
        &link,
        json!({ "link": id }),
    )
    .await
}

/// What the owner did to one of their links, in the trail.
async fn owner_event(
    pool: &PgPool,
    user: i64,
    action: Activity,
    (connection, bucket, key): &(i64, String, String),
    detail: serde_json::Value,
) -> Result<(), AppError> {
    let event = Event {
        actor_id: Some(user),
        connection_id: Some(*connection),
        bucket: Some(bucket),
        key: Some(key),
        detail: Some(detail),
        ..Event::new(action, Outcome::Ok)
    };
    record(pool, event).await
}
