//! Share links on the server: random tokens whose SHA-256 alone is stored, checked on each use.

use serde_json::json;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use super::{NewShare, ShareLink, MAX_HOURS};
use crate::{
    audit::{
        ssr::{count_junk, record, Event},
        Activity, Outcome,
    },
    aws::access::Target,
    error::AppError,
    format::rfc3339,
    iam::Action,
    limits,
    notify::letters,
    state::AppState,
    token,
};

/// Makes a link; `notify`: its owner is told when it is opened (at most once an hour).
pub async fn create(target: &Target<'_>, hours: u32, notify: bool) -> Result<NewShare, AppError> {
    if !(1..=MAX_HOURS).contains(&hours) {
        return Err(AppError::Request(format!(
            "a share link lives 1 to {MAX_HOURS} hours"
        )));
    }
    // The role must be able to read the object now, or the link would only ever fail.
    let (role, assumed) = target
        .assume(vec![Action::GetObject], Activity::ShareCreate)
        .await?;
    let arn = target.arn(&role);
    let (head, _) = target.head(&assumed, &arn).await?;
    let content_type = head
        .content_type()
        .filter(|t| t.len() <= 255 && !t.chars().any(char::is_control));
    let token = token::new();
    let expires_at = OffsetDateTime::now_utc() + Duration::hours(hours.into());
    // A link made under a teammate's grant names it, and dies with it.
    let grant = role
        .within
        .as_ref()
        .and_then(|w| w.via)
        .map(|via| via.grant);
    sqlx::query(
        "insert into share_links (token_hash, owner_id, connection_id, bucket, key, expires_at,
                                  grant_id, notify_open, size, content_type)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(token::digest(&token))
    .bind(target.user)
    .bind(target.connection)
    .bind(target.bucket)
    .bind(target.key)
    .bind(expires_at)
    .bind(grant)
    .bind(notify)
    .bind(head.content_length())
    .bind(content_type)
    .execute(&target.state.pool)
    .await?;
    let result: Result<(), AppError> = Ok(());
    let detail = json!({ "expires_at": rfc3339(expires_at) });
    target
        .audit(&role, Activity::ShareCreate, &result, detail)
        .await?;
    Ok(NewShare {
        path: format!("/s/{token}"),
        expires_at: rfc3339(expires_at),
    })
}

/// A link as its landing page reads it.
#[derive(sqlx::FromRow)]
struct Landing {
    key: String,
    size: Option<i64>,
    content_type: Option<String>,
    shared_by: String,
    expires_at: OffsetDateTime,
    revoked: bool,
    owner_disabled: bool,
}

/// What a link's landing page shows, from Postgres alone: the file's name, size and type when it
/// was shared, who shared it and until when; or that it was revoked or has expired. An unknown
/// token is counted against the `address` as when it is opened.
pub async fn landing(
    state: &AppState,
    token: &str,
    address: Option<&str>,
) -> Result<super::SharedFile, AppError> {
    let link: Option<Landing> = sqlx::query_as(
        "select l.key, l.size, l.content_type, u.email as shared_by, l.expires_at,
                l.revoked_at is not null or not grant_live(g.revoked_at, g.expires_at) as revoked,
                u.disabled as owner_disabled
         from share_links l join users u on u.id = l.owner_id
         left join grants g on g.id = l.grant_id
         where l.token_hash = $1",
    )
    .bind(token::digest(token))
    .fetch_optional(&state.pool)
    .await?;
    let Some(Landing {
        key,
        size,
        content_type,
        shared_by,
        expires_at,
        revoked,
        owner_disabled: disabled,
    }) = link
    else {
        return Err(unknown_token(state, address).await);
    };
    let status = match (revoked || disabled, expires_at <= OffsetDateTime::now_utc()) {
        (true, _) => super::LinkStatus::Revoked,
        (false, true) => super::LinkStatus::Expired,
        (false, false) => super::LinkStatus::Live,
    };
    Ok(super::SharedFile {
        name: crate::location::name_in(&key, crate::location::folder_of(&key)).to_owned(),
        size,
        content_type,
        shared_by,
        expires_at: rfc3339(expires_at),
        status,
    })
}

/// Opens a link: a presigned download URL for its object, made on a fresh assumption of the
/// owner's connection. Revoked and expired links, and links of a disabled owner, are refused and
/// audited. Tokens that match no link are not: they are counted per client `address` (one
/// counter, not a row each, so junk cannot flood the log), and past the limit that address is
/// told to wait instead of being told "not found".
pub async fn open(
    state: &AppState,
    token: &str,
    address: Option<&str>,
) -> Result<String, AppError> {
    let link = sqlx::query!(
        r#"select l.id, l.owner_id, l.connection_id, l.bucket, l.key, l.expires_at, l.revoked_at,
                u.disabled as owner_disabled, l.grant_id,
                not grant_live(g.revoked_at, g.expires_at) as "grant_gone?"
         from share_links l join users u on u.id = l.owner_id
         left join grants g on g.id = l.grant_id
         where l.token_hash = $1"#,
        token::digest(token)
    )
    .fetch_optional(&state.pool)
    .await?;
    // Looked up first, counted only when it misses: a live link always opens, however many
    // junk tokens came from the same address (a token is 256 random bits: no guess finds one).
    let Some(link) = link else {
        return Err(unknown_token(state, address).await);
    };
    // A link made under a grant that was revoked or lapsed is revoked with it.
    let revoked = link.revoked_at.is_some() || link.grant_gone == Some(true);
    let refused = match (
        revoked,
        link.expires_at <= OffsetDateTime::now_utc(),
        link.owner_disabled,
    ) {
        (true, _, _) => Some(Outcome::Revoked),
        (false, true, _) => Some(Outcome::Expired),
        (false, false, true) => Some(Outcome::Error(AppError::AccountDisabled.code())),
        (false, false, false) => None,
    };
    let target = Target::new(
        state,
        link.owner_id,
        link.connection_id,
        &link.bucket,
        &link.key,
    )?
    .shared();
    let result = match refused {
        Some(_) => Err(AppError::ShareLinkGone),
        None => target.download_url(None).await,
    };
    let outcome = refused.unwrap_or_else(|| Outcome::of(&result));
    let mut detail = json!({ "link": link.id, "owner": link.owner_id });
    if let Some(grant) = link.grant_id {
        detail["grant"] = grant.into();
    }
    let event = Event {
        connection_id: Some(link.connection_id),
        bucket: Some(&link.bucket),
        key: Some(&link.key),
        detail: Some(detail),
        ..Event::new(Activity::ShareOpen, outcome)
    };
    record(&state.pool, event).await?;
    if result.is_ok() {
        tell_owner(state, link.id, address).await?;
    }
    result
}

/// A token that matches no link, on its landing page or its download: counted against the
/// client's `address` (past the limit it is told to wait) and in the day's junk count, never a
/// row of the trail. The error to answer with.
async fn unknown_token(state: &AppState, address: Option<&str>) -> AppError {
    if let Some(address) = address {
        let limit = [(&limits::SHARE_UNKNOWN_ADDRESS, address)];
        if let Err(err) = limits::take(&state.pool, &limit).await {
            return err;
        }
    }
    match count_junk(&state.pool, "share.unknown").await {
        Ok(()) => AppError::NotFound,
        Err(err) => err,
    }
}

/// Tells the link's owner it was opened, if they asked to be and were not told within the hour.
async fn tell_owner(state: &AppState, id: i64, from: Option<&str>) -> Result<(), AppError> {
    let due: Option<(i64, i64, String, String)> = sqlx::query_as(
        "update share_links set notified_at = now()
         where id = $1 and notify_open
           and (notified_at is null or notified_at <= now() - interval '1 hour')
         returning owner_id, connection_id, bucket, key",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    if let Some((owner, connection, bucket, key)) = due {
        letters::share_opened(state, owner, (connection, &bucket, &key), from).await;
    }
    Ok(())
}

pub async fn list(pool: &PgPool, user: i64) -> Result<Vec<ShareLink>, AppError> {
    type Row = (
        i64,
        i64,
        String,
        String,
        OffsetDateTime,
        OffsetDateTime,
        bool,
        bool,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "select id, connection_id, bucket, key, expires_at, created_at, revoked_at is not null,
                notify_open
         from share_links where owner_id = $1 order by created_at desc, id desc limit 500",
    )
    .bind(user)
    .fetch_all(pool)
    .await?;
    let now = OffsetDateTime::now_utc();
    Ok(rows
        .into_iter()
        .map(
            |(id, connection, bucket, key, expires_at, created_at, revoked, notify)| ShareLink {
                id,
                connection,
                bucket,
                key,
                expires_at: rfc3339(expires_at),
                created_at: rfc3339(created_at),
                revoked,
                expired: expires_at <= now,
                notify,
            },
        )
        .collect())
}

pub async fn revoke(pool: &PgPool, user: i64, id: i64) -> Result<(), AppError> {
    let link = sqlx::query!(
        "update share_links set revoked_at = now()
         where id = $1 and owner_id = $2 and revoked_at is null
         returning connection_id, bucket, key",
        id,
        user
    )
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::NotFound)?;
    let event = Event {
        actor_id: Some(user),
        connection_id: Some(link.connection_id),
        bucket: Some(&link.bucket),
        key: Some(&link.key),
        detail: Some(json!({ "link": id })),
        ..Event::new(Activity::ShareRevoke, Outcome::Ok)
    };
    record(pool, event).await
}
