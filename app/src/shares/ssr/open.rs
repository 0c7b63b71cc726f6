//! A link used: its landing page (from Postgres alone) and its download (a fresh assumption of
//! the owner's role, then a redirect to a presigned URL that lives minutes). Each rule the owner
//! set is checked here, in this order: the link is live, the visitor's network, the password
//! (guesses counted per link and address), then one download taken from its count.

use std::net::IpAddr;

use serde_json::json;
use time::OffsetDateTime;

use crate::{
    audit::{
        ssr::{count_junk, record, Event},
        Activity, Outcome,
    },
    auth::ssr::hashing,
    aws::access::Target,
    error::AppError,
    format::rfc3339,
    limits,
    notify::letters,
    shares::{LinkStatus, SharedFile},
    state::AppState,
    token,
};

/// A link as a visitor meets it.
#[derive(sqlx::FromRow)]
struct Link {
    id: i64,
    owner_id: i64,
    connection_id: i64,
    bucket: String,
    key: String,
    size: Option<i64>,
    content_type: Option<String>,
    shared_by: String,
    expires_at: Option<OffsetDateTime>,
    /// Revoked, or made under a grant that was revoked or lapsed.
    revoked: bool,
    owner_disabled: bool,
    grant_id: Option<i64>,
    password_hash: Option<String>,
    max_downloads: Option<i32>,
    downloads: i32,
    /// It names networks, and the visitor's address is in none of them (or is not known).
    elsewhere: bool,
}

impl Link {
    fn status(&self) -> LinkStatus {
        let now = OffsetDateTime::now_utc();
        if self.revoked || self.owner_disabled {
            LinkStatus::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            LinkStatus::Expired
        } else if self.max_downloads.is_some_and(|n| self.downloads >= n) {
            LinkStatus::Spent
        } else if self.elsewhere {
            LinkStatus::Elsewhere
        } else {
            LinkStatus::Live
        }
    }
}

async fn find(
    state: &AppState,
    token: &str,
    address: Option<&str>,
) -> Result<Option<Link>, AppError> {
    // Only a well-formed address reaches Postgres's inet.
    let address = address.and_then(|a| a.parse::<IpAddr>().ok().map(|a| a.to_string()));
    Ok(sqlx::query_as(
        "select l.id, l.owner_id, l.connection_id, l.bucket, l.key, l.size, l.content_type,
                u.email as shared_by, l.expires_at,
                l.revoked_at is not null or not grant_live(g.revoked_at, g.expires_at) as revoked,
                u.disabled as owner_disabled, l.grant_id, l.password_hash, l.max_downloads,
                l.downloads,
                l.networks is not null
                    and not coalesce($2::inet <<= any(l.networks), false) as elsewhere
         from share_links l join users u on u.id = l.owner_id
         left join grants g on g.id = l.grant_id
         where l.token_hash = $1",
    )
    .bind(token::digest(token))
    .bind(address)
    .fetch_optional(&state.pool)
    .await?)
}

/// What a link's landing page shows, from Postgres alone: the file's name, size and type when it
/// was shared, who shared it and until when, whether it asks for a password and how many
/// downloads it has left; or why it no longer works. An unknown token is counted against the
/// `address` as when it is opened.
pub async fn landing(
    state: &AppState,
    token: &str,
    address: Option<&str>,
) -> Result<SharedFile, AppError> {
    let Some(link) = find(state, token, address).await? else {
        return Err(unknown_token(state, address).await);
    };
    Ok(SharedFile {
        name: crate::location::name_in(&link.key, crate::location::folder_of(&link.key)).to_owned(),
        size: link.size,
        content_type: link.content_type.clone(),
        shared_by: link.shared_by.clone(),
        expires_at: link.expires_at.map(rfc3339),
        status: link.status(),
        password: link.password_hash.is_some(),
        downloads_left: link
            .max_downloads
            .map(|n| (n - link.downloads).max(0).unsigned_abs()),
    })
}

/// Opens a link: a presigned download URL for its object, made on a fresh assumption of the
/// owner's connection, once the link's rules let this visitor through (`password` as typed).
/// Every open and every refusal is audited. Tokens that match no link are not: they are counted
/// per client `address` (one counter, not a row each, so junk cannot flood the log), and past
/// the limit that address is told to wait instead of being told "not found".
pub async fn open(
    state: &AppState,
    token: &str,
    address: Option<&str>,
    password: Option<&str>,
) -> Result<String, AppError> {
    // Looked up first, counted only when it misses: a live link always opens, however many
    // junk tokens came from the same address (a token is 256 random bits: no guess finds one).
    let Some(link) = find(state, token, address).await? else {
        return Err(unknown_token(state, address).await);
    };
    let refusal = |err: AppError| (Outcome::Error(err.code()), err);
    let refused = match (link.owner_disabled, link.status()) {
        (true, _) => Some((
            Outcome::Error(AppError::AccountDisabled.code()),
            AppError::ShareLinkGone,
        )),
        (false, LinkStatus::Revoked) => Some((Outcome::Revoked, AppError::ShareLinkGone)),
        (false, LinkStatus::Expired) => Some((Outcome::Expired, AppError::ShareLinkGone)),
        (false, LinkStatus::Spent) => Some(refusal(AppError::ShareDownloadsSpent)),
        (false, LinkStatus::Elsewhere) => Some(refusal(AppError::ShareNetworkRefused)),
        (false, LinkStatus::Live) => None,
    };
    let (outcome, result) = match refused {
        Some((outcome, err)) => (outcome, Err(err)),
        None => {
            let result = download(state, &link, address, password).await;
            (Outcome::of(&result), result)
        }
    };
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

/// A live link's download: its password checked, one download taken from its count (given back
/// if no URL could be made), then the URL.
async fn download(
    state: &AppState,
    link: &Link,
    address: Option<&str>,
    password: Option<&str>,
) -> Result<String, AppError> {
    if let Some(hash) = link.password_hash.clone() {
        // None given (the bare download address): nothing to hash, and no guess to count.
        let typed = password.ok_or(AppError::SharePasswordWrong)?.to_owned();
        // Counted per link and address: guesses from elsewhere never lock the owner's
        // recipient out, and one address gets a handful per quarter hour.
        let subject = format!("{}:{}", link.id, address.unwrap_or("unknown"));
        limits::take(&state.pool, &[(&limits::SHARE_PASSWORD, subject.as_str())]).await?;
        let right = hashing::run(move || hashing::verify(typed.as_bytes(), &hash))
            .await?
            .unwrap_or(false);
        if !right {
            return Err(AppError::SharePasswordWrong);
        }
    }
    let counted = match link.max_downloads {
        None => false,
        Some(_) => {
            let taken = sqlx::query(
                "update share_links set downloads = downloads + 1
                 where id = $1 and downloads < max_downloads",
            )
            .bind(link.id)
            .execute(&state.pool)
            .await?;
            if taken.rows_affected() == 0 {
                return Err(AppError::ShareDownloadsSpent);
            }
            true
        }
    };
    let target = Target::new(
        state,
        link.owner_id,
        link.connection_id,
        &link.bucket,
        &link.key,
    )?
    .shared();
    let url = target.download_url(None).await;
    if url.is_err() && counted {
        sqlx::query(
            "update share_links set downloads = downloads - 1 where id = $1 and downloads > 0",
        )
        .bind(link.id)
        .execute(&state.pool)
        .await?;
    }
    url
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
