//! A link used: its landing page (from Postgres alone) and its download (a fresh assumption of
//! the owner's role, then a redirect to a presigned URL that lives minutes). Each rule the owner
//! set is checked here ([`gate`]), in this order: the link is live, the visitor's network, who the
//! visitor signed in as (for a link to named people), the password (guesses counted per link and
//! address; or given once in this browser, for a folder), then downloads taken from its count.

use std::net::IpAddr;

use serde_json::json;
use time::OffsetDateTime;

use crate::{
    audit::{
        ssr::{count_junk, record, Event},
        Activity, Outcome,
    },
    auth::ssr::{auth_session, hashing, normal_email, AuthSession, SessionUser},
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
pub(super) struct Link {
    pub(super) id: i64,
    pub(super) owner_id: i64,
    pub(super) connection_id: i64,
    pub(super) bucket: String,
    pub(super) key: String,
    pub(super) size: Option<i64>,
    pub(super) content_type: Option<String>,
    pub(super) shared_by: String,
    pub(super) expires_at: Option<OffsetDateTime>,
    /// Revoked, or made under a grant that was revoked or lapsed.
    pub(super) revoked: bool,
    pub(super) owner_disabled: bool,
    pub(super) grant_id: Option<i64>,
    pub(super) password_hash: Option<String>,
    pub(super) max_downloads: Option<i32>,
    pub(super) downloads: i32,
    /// It names networks, and the visitor's address is in none of them (or is not known).
    pub(super) elsewhere: bool,
    /// The addresses it opens for, lower-cased; `None`: whoever holds it.
    pub(super) people: Option<Vec<String>>,
}

/// Who opens a link, when they are signed in to Crossview.
pub struct Visitor {
    pub id: i64,
    /// Lower-cased.
    pub email: String,
}

impl Visitor {
    pub fn of(user: &SessionUser) -> Self {
        Visitor {
            id: user.id,
            email: normal_email(&user.email),
        }
    }
}

/// Session key: the links whose password this browser gave. A folder link's password is given
/// once, not with each listing and file.
const UNLOCKED: &str = "crossview.shares_unlocked";

/// Who holds a link in this request, owned: the client's address, who is signed in, and the
/// links whose password this browser gave. [`Visit::holder`] lends it to a link's checks.
pub struct Visit {
    pub address: Option<String>,
    pub visitor: Option<Visitor>,
    pub unlocked: Vec<i64>,
}

impl Visit {
    pub async fn of(auth: &AuthSession, address: Option<String>) -> Self {
        let unlocked = auth.session.get::<Vec<i64>>(UNLOCKED).await;
        Visit {
            address,
            visitor: auth.user.as_ref().map(Visitor::of),
            unlocked: unlocked.ok().flatten().unwrap_or_default(),
        }
    }

    /// [`Visit::of`] this request, in a server function.
    pub async fn current(address: Option<String>) -> Self {
        match auth_session().await {
            Ok(auth) => Self::of(&auth, address).await,
            Err(_) => Visit {
                address,
                visitor: None,
                unlocked: Vec::new(),
            },
        }
    }

    /// The holder, with the password typed in this request if any.
    pub fn holder<'a>(&'a self, password: Option<&'a str>) -> Holder<'a> {
        Holder {
            address: self.address.as_deref(),
            visitor: self.visitor.as_ref(),
            password,
            unlocked: &self.unlocked,
        }
    }

    /// Keeps in this browser's session that it gave link `id`'s password (the 50 newest).
    pub async fn remember_unlock(&self, auth: &AuthSession, id: i64) -> Result<(), AppError> {
        let mut unlocked = self.unlocked.clone();
        unlocked.retain(|l| *l != id);
        unlocked.push(id);
        let keep = unlocked.len().saturating_sub(50);
        auth.session
            .insert(UNLOCKED, &unlocked[keep..])
            .await
            .map_err(AppError::internal)
    }
}

impl Link {
    /// A link to a folder: its key is the folder's prefix, ending in `/`.
    pub(super) fn folder(&self) -> bool {
        self.key.ends_with('/')
    }

    /// `key` of the link's bucket, as its holder reaches it through the owner's connection.
    pub(super) fn target<'a>(
        &'a self,
        state: &'a AppState,
        key: &'a str,
    ) -> Result<Target<'a>, AppError> {
        Ok(Target::new(state, self.owner_id, self.connection_id, &self.bucket, key)?.shared())
    }

    fn status(&self, visitor: Option<&Visitor>) -> LinkStatus {
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
            match (&self.people, visitor) {
                (None, _) => LinkStatus::Live,
                (Some(_), None) => LinkStatus::SignIn,
                (Some(people), Some(v)) if people.contains(&v.email) => LinkStatus::Live,
                (Some(_), Some(_)) => LinkStatus::NotForYou,
            }
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
                    and not coalesce($2::inet <<= any(l.networks), false) as elsewhere,
                l.people
         from share_links l join users u on u.id = l.owner_id
         left join grants g on g.id = l.grant_id
         where l.token_hash = $1",
    )
    .bind(token::digest(token))
    .bind(address)
    .fetch_optional(&state.pool)
    .await?)
}

/// What a link's landing page shows, from Postgres alone: the file's (or folder's) name, size and
/// type when it was shared, who shared it and until when, whether it asks for a password (not
/// given yet in this browser) and how many downloads it has left; or why it no longer works. An
/// unknown token is counted against the holder's address as when it is opened.
pub async fn landing(
    state: &AppState,
    token: &str,
    holder: &Holder<'_>,
) -> Result<SharedFile, AppError> {
    let Some(link) = find(state, token, holder.address).await? else {
        return Err(unknown_token(state, holder.address).await);
    };
    let name = link
        .key
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    Ok(SharedFile {
        name: name.to_owned(),
        folder: link.folder(),
        size: link.size,
        content_type: link.content_type.clone(),
        shared_by: link.shared_by.clone(),
        expires_at: link.expires_at.map(rfc3339),
        status: link.status(holder.visitor),
        password: link.password_hash.is_some() && !holder.unlocked.contains(&link.id),
        downloads_left: link
            .max_downloads
            .map(|n| (n - link.downloads).max(0).unsigned_abs()),
    })
}

/// Who holds a link, as far as its rules ask.
#[derive(Default)]
pub struct Holder<'a> {
    /// The client's address, where it can be told.
    pub address: Option<&'a str>,
    /// Who is signed in, if anyone.
    pub visitor: Option<&'a Visitor>,
    /// The password as typed with this request.
    pub password: Option<&'a str>,
    /// Links whose password this browser's session gave already (see `folder::unlock`).
    pub unlocked: &'a [i64],
}

/// Opens a link to one object: a presigned download URL made on a fresh assumption of the
/// owner's connection, once the link's rules let this visitor through (`password` as typed; the
/// signed-in `visitor`, whom the trail names).
pub async fn open(
    state: &AppState,
    token: &str,
    address: Option<&str>,
    visitor: Option<&Visitor>,
    password: Option<&str>,
) -> Result<String, AppError> {
    let holder = Holder {
        address,
        visitor,
        password,
        unlocked: &[],
    };
    gate(state, token, &holder, json!({}), async |link| {
        if link.folder() {
            // A folder link's files are opened by name (see `folder::file`).
            return Err(AppError::NotFound);
        }
        let counted = take_downloads(state, link, 1).await?;
        let url = link.target(state, &link.key)?.download_url(None).await;
        if url.is_err() {
            give_back(state, link, counted).await?;
        }
        url
    })
    .await
}

/// Runs `act` on the link behind `token` once its rules let `holder` through. Every use and every
/// refusal is audited as `share.open` (with `detail` added: what of a folder was used). Tokens
/// that match no link are not: they are counted per client address (one counter, not a row each,
/// so junk cannot flood the log), and past the limit that address is told to wait instead of
/// being told "not found". The owner is told of a use if they asked.
pub(super) async fn gate<T>(
    state: &AppState,
    token: &str,
    holder: &Holder<'_>,
    mut detail: serde_json::Value,
    act: impl AsyncFnOnce(&Link) -> Result<T, AppError>,
) -> Result<T, AppError> {
    // Looked up first, counted only when it misses: a live link always opens, however many
    // junk tokens came from the same address (a token is 256 random bits: no guess finds one).
    let Some(link) = find(state, token, holder.address).await? else {
        return Err(unknown_token(state, holder.address).await);
    };
    let refusal = |err: AppError| (Outcome::Error(err.code()), err);
    let refused = match (link.owner_disabled, link.status(holder.visitor)) {
        (true, _) => Some((
            Outcome::Error(AppError::AccountDisabled.code()),
            AppError::ShareLinkGone,
        )),
        (false, LinkStatus::Revoked) => Some((Outcome::Revoked, AppError::ShareLinkGone)),
        (false, LinkStatus::Expired) => Some((Outcome::Expired, AppError::ShareLinkGone)),
        (false, LinkStatus::Spent) => Some(refusal(AppError::ShareDownloadsSpent)),
        (false, LinkStatus::Elsewhere) => Some(refusal(AppError::ShareNetworkRefused)),
        (false, LinkStatus::SignIn) => Some(refusal(AppError::ShareSignIn)),
        (false, LinkStatus::NotForYou) => Some(refusal(AppError::ShareNotForYou)),
        (false, LinkStatus::Live) => None,
    };
    let (outcome, result) = match refused {
        Some((outcome, err)) => (outcome, Err(err)),
        None => {
            let result = match password(state, &link, holder).await {
                Ok(()) => act(&link).await,
                Err(err) => Err(err),
            };
            (Outcome::of(&result), result)
        }
    };
    detail["link"] = link.id.into();
    detail["owner"] = link.owner_id.into();
    if let Some(grant) = link.grant_id {
        detail["grant"] = grant.into();
    }
    let event = Event {
        actor_id: holder.visitor.map(|v| v.id),
        connection_id: Some(link.connection_id),
        bucket: Some(&link.bucket),
        key: Some(&link.key),
        detail: Some(detail),
        ..Event::new(Activity::ShareOpen, outcome)
    };
    record(&state.pool, event).await?;
    if result.is_ok() {
        tell_owner(state, link.id, holder.address).await?;
    }
    result
}

/// The link's password, if it has one: given by this browser already, or typed now. Guesses are
/// counted per link and address: guesses from elsewhere never lock the owner's recipient out,
/// and one address gets a handful per quarter hour.
async fn password(state: &AppState, link: &Link, holder: &Holder<'_>) -> Result<(), AppError> {
    let Some(hash) = link.password_hash.clone() else {
        return Ok(());
    };
    if holder.unlocked.contains(&link.id) {
        return Ok(());
    }
    // None given (the bare download address): nothing to hash, and no guess to count.
    let typed = holder
        .password
        .ok_or(AppError::SharePasswordWrong)?
        .to_owned();
    let subject = format!("{}:{}", link.id, holder.address.unwrap_or("unknown"));
    limits::take(&state.pool, &[(&limits::SHARE_PASSWORD, subject.as_str())]).await?;
    let right = hashing::run(move || hashing::verify(typed.as_bytes(), &hash))
        .await?
        .unwrap_or(false);
    match right {
        true => Ok(()),
        false => Err(AppError::SharePasswordWrong),
    }
}

/// Takes `n` downloads from a counting link in one statement (two visitors cannot both take the
/// last one): how many were taken, to give back if nothing could be handed out.
pub(super) async fn take_downloads(state: &AppState, link: &Link, n: i32) -> Result<i32, AppError> {
    if link.max_downloads.is_none() || n == 0 {
        return Ok(0);
    }
    let taken = sqlx::query(
        "update share_links set downloads = downloads + $2
         where id = $1 and downloads + $2 <= max_downloads",
    )
    .bind(link.id)
    .bind(n)
    .execute(&state.pool)
    .await?;
    match taken.rows_affected() {
        0 => Err(AppError::ShareDownloadsSpent),
        _ => Ok(n),
    }
}

pub(super) async fn give_back(state: &AppState, link: &Link, n: i32) -> Result<(), AppError> {
    if n > 0 {
        sqlx::query("update share_links set downloads = greatest(downloads - $2, 0) where id = $1")
            .bind(link.id)
            .bind(n)
            .execute(&state.pool)
            .await?;
    }
    Ok(())
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
