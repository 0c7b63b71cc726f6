//! Locations and grants in Postgres. Who may use what is decided again on every request, in
//! `aws::access::Role::load`: a revoked or lapsed grant stops the very next one.

use serde_json::json;
use sqlx::PgPool;
use time::{Date, Month, OffsetDateTime, Time};

use super::{canonical_prefix, Grant, Invitation, Location, Shared};
use crate::{
    audit::{
        ssr::{record, Event},
        Activity, Outcome,
    },
    auth::ssr::normal_email,
    aws::{access::USER_PLACEHOLDER, bucket::valid_bucket_name},
    error::AppError,
    format::rfc3339,
    iam::Reach,
    limits,
    notify::letters,
    state::AppState,
};

/// Who may see a connection's locations and grants, remove them and revoke them: its owner, or
/// an administrator. Anyone else is told it does not exist.
pub async fn managed(pool: &PgPool, actor: i64, connection: i64) -> Result<(), AppError> {
    match relation(pool, actor, connection).await? {
        Some((true, _)) | Some((_, true)) => Ok(()),
        _ => Err(AppError::NotFound),
    }
}

/// Who may add locations and grants, which give access to the connection's data: its owner
/// alone. An administrator is told why not (they may disable, re-check or delete it instead),
/// anyone else that it does not exist.
pub async fn owned(pool: &PgPool, actor: i64, connection: i64) -> Result<(), AppError> {
    match relation(pool, actor, connection).await? {
        Some((true, _)) => Ok(()),
        Some((false, true)) => Err(AppError::NotYourConnection),
        _ => Err(AppError::NotFound),
    }
}

/// Whether `actor` owns the connection, and whether they are an administrator.
async fn relation(
    pool: &PgPool,
    actor: i64,
    connection: i64,
) -> Result<Option<(bool, bool)>, AppError> {
    let row = sqlx::query_as(
        "select c.owner_id = $2, u.is_admin from connections c, users u
         where c.id = $1 and u.id = $2",
    )
    .bind(connection)
    .bind(actor)
    .fetch_optional(pool)
    .await?;
    Ok(row)
}

/// The connection's locations, each with its live (unrevoked) grants, expired ones included.
pub async fn list(pool: &PgPool, connection: i64, viewer: i64) -> Result<Vec<Location>, AppError> {
    let locations = sqlx::query!(
        "select id, bucket, prefix, writable from locations
         where connection_id = $1 order by bucket, prefix",
        connection
    )
    .fetch_all(pool)
    .await?;
    let grants: Vec<GrantRow> = sqlx::query_as(
        "select g.id, g.location_id, coalesce(u.email, g.grantee_email) as email, g.writable,
                g.expires_at, g.created_at, b.email as granted_by,
                g.accepted_at is not null as accepted
         from grants g join locations l on l.id = g.location_id
         left join users u on u.id = g.grantee_id
         left join users b on b.id = g.granted_by
         where l.connection_id = $1 and g.revoked_at is null
         order by 3, g.id",
    )
    .bind(connection)
    .fetch_all(pool)
    .await?;
    let now = OffsetDateTime::now_utc();
    Ok(locations
        .into_iter()
        .map(|l| Location {
            grants: grants
                .iter()
                .filter(|g| g.location_id == l.id)
                .map(|g| Grant {
                    id: g.id,
                    grantee: g.email.clone(),
                    writable: g.writable,
                    expires_at: g.expires_at.map(rfc3339),
                    created_at: rfc3339(g.created_at),
                    granted_by: g.granted_by.clone(),
                    accepted: g.accepted,
                    expired: g.expires_at.is_some_and(|t| t <= now),
                })
                .collect(),
            id: l.id,
            bucket: l.bucket,
            yours: l.prefix.replace(USER_PLACEHOLDER, &viewer.to_string()),
            prefix: l.prefix,
            writable: l.writable,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct GrantRow {
    id: i64,
    location_id: i64,
    email: String,
    writable: bool,
    expires_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    granted_by: Option<String>,
    accepted: bool,
}

/// What a change to locations or grants is, in the audit trail.
async fn audit<'c>(
    db: impl sqlx::PgExecutor<'c>,
    actor: i64,
    connection: i64,
    action: Activity,
    (bucket, prefix): (&str, &str),
    detail: serde_json::Value,
) -> Result<(), AppError> {
    let event = Event {
        actor_id: Some(actor),
        connection_id: Some(connection),
        bucket: Some(bucket),
        key: Some(prefix).filter(|p| !p.is_empty()),
        detail: Some(detail),
        ..Event::new(action, Outcome::Ok)
    };
    record(db, event).await
}

pub async fn add(
    pool: &PgPool,
    actor: i64,
    connection: i64,
    bucket: &str,
    prefix: &str,
    writable: bool,
) -> Result<i64, AppError> {
    owned(pool, actor, connection).await?;
    let bucket = bucket.trim();
    let prefix = canonical_prefix(prefix).ok_or(AppError::LocationInvalid)?;
    if !valid_bucket_name(bucket) {
        return Err(AppError::BucketNameInvalid);
    }
    // Adding it again changes its mode.
    let id = sqlx::query_scalar!(
        "insert into locations (connection_id, bucket, prefix, writable) values ($1, $2, $3, $4)
         on conflict (connection_id, bucket, prefix) do update set writable = excluded.writable
         returning id",
        connection,
        bucket,
        prefix,
        writable
    )
    .fetch_one(pool)
    .await?;
    let detail = json!({ "location": id, "writable": writable });
    audit(
        pool,
        actor,
        connection,
        Activity::LocationAdd,
        (bucket, &prefix),
        detail,
    )
    .await?;
    Ok(id)
}

pub async fn remove(pool: &PgPool, actor: i64, connection: i64, id: i64) -> Result<(), AppError> {
    managed(pool, actor, connection).await?;
    let gone = sqlx::query!(
        "delete from locations where id = $1 and connection_id = $2 returning bucket, prefix",
        id,
        connection
    )
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::NotFound)?;
    let detail = json!({ "location": id });
    audit(
        pool,
        actor,
        connection,
        Activity::LocationRemove,
        (&gone.bucket, &gone.prefix),
        detail,
    )
    .await
}

/// A grant as the form asks for it.
pub struct NewGrant<'a> {
    pub location: i64,
    pub email: &'a str,
    pub writable: bool,
    /// `YYYY-MM-DD` (the grant lasts to the end of that day, UTC), or empty: until revoked.
    pub until: &'a str,
}

/// `YYYY-MM-DD`, as a date input sends it.
fn calendar_day(text: &str) -> Option<Date> {
    let mut parts = text.splitn(3, '-').map(str::parse::<u16>);
    let (Some(Ok(year)), Some(Ok(month)), Some(Ok(day))) =
        (parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year.into(), month, u8::try_from(day).ok()?).ok()
}

/// Invites `email` to one location (again: replaces the live grant or invitation of it). The
/// answer is the same whether or not the address has an account: the grant reaches nothing
/// until the account with that address accepts it. A connection that is not verified grants
/// nothing, and each owner makes at most [`limits::GRANTS_USER`] grants an hour. The address is
/// told (see [`invite`]).
pub async fn grant(
    state: &AppState,
    actor: i64,
    connection: i64,
    new: NewGrant<'_>,
) -> Result<i64, AppError> {
    let pool = &state.pool;
    owned(pool, actor, connection).await?;
    let expires_at = match new.until.trim() {
        "" => None,
        day => {
            let end = calendar_day(day)
                .and_then(Date::next_day)
                .ok_or(AppError::GrantExpiryInvalid)?;
            let end = end.with_time(Time::MIDNIGHT).assume_utc();
            if end <= OffsetDateTime::now_utc() {
                return Err(AppError::GrantExpiryInvalid);
            }
            Some(end)
        }
    };
    let location: Option<(String, String, i64, String, String)> = sqlx::query_as(
        "select l.bucket, l.prefix, c.owner_id, c.status, o.email from locations l
         join connections c on c.id = l.connection_id join users o on o.id = c.owner_id
         where l.id = $1 and l.connection_id = $2",
    )
    .bind(new.location)
    .bind(connection)
    .fetch_optional(pool)
    .await?;
    let (bucket, prefix, owner, status, owner_email) = location.ok_or(AppError::NotFound)?;
    if status != "verified" {
        return Err(AppError::ConnectionNotVerified);
    }
    crate::auth::ssr::validate_email(new.email.trim())?;
    let email = normal_email(new.email);
    // Nobody grants to themselves (the grantor is the owner, who has it all already).
    if email == normal_email(&owner_email) {
        return Err(AppError::GranteeIsOwner);
    }
    limits::take(pool, &[(&limits::GRANTS_USER, &actor.to_string())]).await?;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "update grants set revoked_at = now()
         where location_id = $1 and grantee_email = $2 and revoked_at is null",
    )
    .bind(new.location)
    .bind(&email)
    .execute(&mut *tx)
    .await?;
    let id: i64 = sqlx::query_scalar(
        "insert into grants (location_id, grantee_email, writable, expires_at, granted_by)
         values ($1, $2, $3, $4, $5) returning id",
    )
    .bind(new.location)
    .bind(&email)
    .bind(new.writable)
    .bind(expires_at)
    .bind(actor)
    .fetch_one(&mut *tx)
    .await?;
    // The address, not an account: whether one exists is nobody's business here.
    let detail = json!({
        "grant": id, "grantee_email": email, "grantor": owner,
        "location": new.location, "writable": new.writable,
        "expires_at": expires_at.map(rfc3339),
    });
    audit(
        &mut *tx,
        actor,
        connection,
        Activity::GrantCreate,
        (&bucket, &prefix),
        detail,
    )
    .await?;
    tx.commit().await?;
    let place = format!("s3://{bucket}/{prefix}");
    invite(state, email, owner_email, place, new.writable);
    Ok(id)
}

/// Tells the invited address, in the background: the answer takes as long whether or not the
/// address has an account. An account gets the notice in its list too.
fn invite(state: &AppState, email: String, grantor: String, place: String, writable: bool) {
    let state = state.clone();
    tokio::spawn(async move {
        let account = sqlx::query_scalar("select id from users where lower(email) = $1")
            .bind(&email)
            .fetch_optional(&state.pool)
            .await;
        match account {
            Ok(account) => {
                let to = (account, email);
                letters::invitation(&state, to, &grantor, &place, writable).await;
            }
            Err(err) => tracing::warn!("invitation not told: {err}"),
        }
    });
}

/// Invitations waiting for `user`: live grants to their address that they have not accepted,
/// on verified connections that are in use.
pub async fn invitations(pool: &PgPool, user: i64) -> Result<Vec<Invitation>, AppError> {
    let rows = places(pool, user, true).await?;
    Ok(rows
        .into_iter()
        .map(|r| Invitation {
            id: r.grant_id,
            place: r.place(user),
            until: r.expires_at.map(rfc3339),
            name: r.name,
            owner: r.owner,
        })
        .collect())
}

/// A user's address as grants are made to it (one normalisation, `normal_email`, everywhere).
async fn address_of(pool: &PgPool, user: i64) -> Result<String, AppError> {
    let email: String = sqlx::query_scalar("select email from users where id = $1")
        .bind(user)
        .fetch_one(pool)
        .await?;
    Ok(normal_email(&email))
}

/// A live grant's place as its grantee reaches it, on a verified connection in use.
#[derive(sqlx::FromRow)]
struct GrantPlace {
    grant_id: i64,
    connection: i64,
    name: String,
    owner: String,
    bucket: String,
    prefix: String,
    writable: bool,
    expires_at: Option<OffsetDateTime>,
}

impl GrantPlace {
    fn place(&self, user: i64) -> Reach {
        Reach {
            bucket: self.bucket.clone(),
            prefix: self.prefix.replace(USER_PLACEHOLDER, &user.to_string()),
            writable: self.writable,
            via: None,
        }
    }
}

/// `user`'s live grants: those waiting at their address (`invited`), or those they accepted.
async fn places(pool: &PgPool, user: i64, invited: bool) -> Result<Vec<GrantPlace>, AppError> {
    let address = match invited {
        true => address_of(pool, user).await?,
        false => String::new(),
    };
    Ok(sqlx::query_as(
        "select g.id as grant_id, c.id as connection, c.name, o.email as owner, l.bucket, l.prefix,
                l.writable and g.writable as writable, g.expires_at
         from grants g
         join locations l on l.id = g.location_id
         join connections c on c.id = l.connection_id
         join users o on o.id = c.owner_id
         where case when $3 then g.grantee_id is null and g.grantee_email = $2
                    else g.grantee_id = $1 end
             and grant_live(g.revoked_at, g.expires_at)
             and c.status = 'verified' and c.disabled_at is null and not o.disabled
         order by c.name, c.id, l.bucket, l.prefix, g.id",
    )
    .bind(user)
    .bind(address)
    .bind(invited)
    .fetch_all(pool)
    .await?)
}

/// Accepts (`true`) or declines an invitation to the signed-in user's own address. Anything
/// else (another address's, revoked, lapsed, answered already) is `NotFound`.
pub async fn answer(pool: &PgPool, user: i64, id: i64, accept: bool) -> Result<(), AppError> {
    let answered: Option<(i64, String, String)> = sqlx::query_as(
        "update grants g
         set grantee_id = case when $3 then $1::int8 end,
             accepted_at = case when $3 then now() end,
             revoked_at = case when $3 then null else now() end
         from locations l
         where g.id = $2 and g.grantee_email = $4
             and g.grantee_id is null and grant_live(g.revoked_at, g.expires_at)
             and l.id = g.location_id
         returning l.connection_id, l.bucket, l.prefix",
    )
    .bind(user)
    .bind(id)
    .bind(accept)
    .bind(address_of(pool, user).await?)
    .fetch_optional(pool)
    .await?;
    let (connection, bucket, prefix) = answered.ok_or(AppError::NotFound)?;
    let action = match accept {
        true => Activity::GrantAccept,
        false => Activity::GrantDecline,
    };
    audit(
        pool,
        user,
        connection,
        action,
        (&bucket, &prefix),
        json!({ "grant": id }),
    )
    .await
}

pub async fn revoke(pool: &PgPool, actor: i64, connection: i64, id: i64) -> Result<(), AppError> {
    managed(pool, actor, connection).await?;
    let gone: Option<(String, String, String, i64)> = sqlx::query_as(
        "update grants g set revoked_at = now()
         from locations l, connections c
         where g.id = $1 and l.id = g.location_id and l.connection_id = $2
             and c.id = l.connection_id and g.revoked_at is null
         returning l.bucket, l.prefix, g.grantee_email, c.owner_id",
    )
    .bind(id)
    .bind(connection)
    .fetch_optional(pool)
    .await?;
    let (bucket, prefix, grantee, owner) = gone.ok_or(AppError::NotFound)?;
    let detail = json!({ "grant": id, "grantee_email": grantee, "grantor": owner });
    audit(
        pool,
        actor,
        connection,
        Activity::GrantRevoke,
        (&bucket, &prefix),
        detail,
    )
    .await
}

/// The connections shared with `user` through live grants, with each place as they reach it.
pub async fn shared_with(pool: &PgPool, user: i64) -> Result<Vec<Shared>, AppError> {
    let rows = places(pool, user, false).await?;
    let mut shared: Vec<Shared> = Vec::new();
    for r in rows {
        let (place, until) = (r.place(user), r.expires_at.map(rfc3339));
        match shared.last_mut() {
            Some(last) if last.connection == r.connection => last.locations.push((place, until)),
            _ => shared.push(Shared {
                connection: r.connection,
                name: r.name,
                owner: r.owner,
                locations: vec![(place, until)],
            }),
        }
    }
    Ok(shared)
}
