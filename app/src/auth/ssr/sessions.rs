//! Where sessions are kept: tower-sessions' records in `tower_sessions.session` (the rows and the
//! MessagePack encoding of `tower-sessions-sqlx-store`, whose sessions stay valid), plus the
//! signed-in user's id in a column of its own.
//!
//! That column is what lets a page read its session and its user in one query: loading a session
//! joins the user (and counts the user's unread notices, which every page's header shows), and
//! axum-login's next step, [`super::Backend::get_user`], takes that user from
//! this request ([`loaded_user`]) instead of asking Postgres a second time. The join applies
//! the same rule as `get_user`'s own query (a disabled user is no user), and axum-login still
//! compares the session's auth hash with the user's epoch afterwards.

use std::cell::RefCell;

use axum::{extract::Request, middleware::Next, response::Response};
use axum_login::tower_sessions::{
    session::{Id, Record},
    session_store::{self, SessionStore},
};
use sqlx::PgPool;

use super::SessionUser;
use crate::{auth::SessionInfo, db::Db, error::AppError, format::rfc3339};

/// Where axum-login keeps its data in a session: its default, named here and set on its layer by
/// the server, so that this store reads the same place.
pub const AUTH_DATA_KEY: &str = "axum-login.data";

tokio::task_local! {
    /// The user read with this request's session: their id, and the user unless disabled.
    static LOADED: RefCell<Option<(i64, Option<SessionUser>)>>;
}

/// Gives each request a place for the user its session load reads. A layer outside axum-login's.
pub async fn one_read_per_request(request: Request, next: Next) -> Response {
    LOADED.scope(RefCell::new(None), next.run(request)).await
}

/// The user `id` as this request's session load read them, once; `None` if it did not (no
/// session, a session saved before the column existed, or another user).
pub(super) fn loaded_user(id: i64) -> Option<Option<SessionUser>> {
    let loaded = LOADED.try_with(|slot| slot.borrow_mut().take()).ok()??;
    (loaded.0 == id).then_some(loaded.1)
}

#[derive(Clone, Debug)]
pub struct Sessions {
    db: Db,
}

/// The signed-in user's id in a session's data, as axum-login writes it.
fn user_of(record: &Record) -> Option<i64> {
    record.data.get(AUTH_DATA_KEY)?.get("user_id")?.as_i64()
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    rmp_serde::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

fn backend(err: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

impl Sessions {
    pub fn new(db: Db) -> Self {
        Sessions { db }
    }

    /// Writes `record`; one whose id is taken is replaced only if `replace`. Whether it was written.
    async fn write(&self, record: &Record, replace: bool) -> session_store::Result<bool> {
        let written = sqlx::query!(
            "insert into tower_sessions.session (id, data, expiry_date, user_id)
             values ($1, $2, $3, $4)
             on conflict (id) do update
             set data = excluded.data, expiry_date = excluded.expiry_date,
                 user_id = excluded.user_id
             where $5",
            record.id.to_string(),
            encode(record)?,
            record.expiry_date,
            user_of(record),
            replace,
        )
        .execute(self.db.pool())
        .await
        .map_err(backend)?;
        Ok(written.rows_affected() == 1)
    }
}

#[async_trait::async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new id that is already taken (as likely as guessing one) is drawn again.
        while !self.write(record, false).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(record, true).await.map(drop)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        // Every page's first statement: on a kept connection (no ping after it).
        let mut db = self.db.lease().await.map_err(backend)?;
        let row = sqlx::query!(
            r#"select s.data, s.user_id, u.id as "id?", u.email as "email?",
                      u.is_admin as "is_admin?", u.auth_epoch::text as "epoch?",
                      unread_notices(u.id) as "unread?"
               from tower_sessions.session s
               left join users u on u.id = s.user_id and not u.disabled
               where s.id = $1 and s.expiry_date > now()"#,
            id.to_string()
        )
        .fetch_optional(&mut *db)
        .await
        .map_err(backend)?;
        db.done();
        let Some(row) = row else {
            return Ok(None);
        };
        if let Some(user_id) = row.user_id {
            let user = match (row.id, row.email, row.is_admin, row.epoch) {
                (Some(id), Some(email), Some(is_admin), Some(epoch)) => Some(SessionUser {
                    id,
                    email,
                    is_admin,
                    epoch,
                    unread_notices: row.unread.unwrap_or_default(),
                }),
                _ => None,
            };
            // Outside a request (no place for it), the user is simply read again.
            let _ = LOADED.try_with(|slot| *slot.borrow_mut() = Some((user_id, user)));
        }
        let record = rmp_serde::from_slice(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query!(
            "delete from tower_sessions.session where id = $1",
            id.to_string()
        )
        .execute(self.db.pool())
        .await
        .map_err(backend)?;
        Ok(())
    }
}

/// How long a session lives without a request (its row's expiry moves with each one).
pub const IDLE_DAYS: i64 = 7;

/// Session key: the browser (its `User-Agent`, cut) and client address a session signed in
/// from, for the sessions list.
pub(super) const CLIENT: &str = "crossview.client";
/// Session key: how the session signed in (`password`, `password+totp`, …).
pub(super) const METHOD: &str = "crossview.method";

#[derive(Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Client {
    pub agent: String,
    pub address: Option<String>,
}

/// What the list calls a session: a digest of its id, never the id (which is the cookie's
/// secret).
fn handle(id: &str) -> String {
    hex::encode(crate::token::digest(id))
}

/// The user's live sessions, the most recently used first; `current` is this request's.
pub async fn of_user(
    pool: &PgPool,
    user_id: i64,
    current: Option<&str>,
) -> Result<Vec<SessionInfo>, AppError> {
    let rows: Vec<(String, Vec<u8>, time::OffsetDateTime)> = sqlx::query_as(
        "select id, data, expiry_date from tower_sessions.session
         where user_id = $1 and expiry_date > now() order by expiry_date desc",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    let listed = rows.into_iter().filter_map(|(id, data, expiry)| {
        let record: Record = rmp_serde::from_slice(&data).ok()?;
        let client: Client = record
            .data
            .get(CLIENT)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let signed_in_at = record
            .data
            .get(super::SIGNED_IN_AT)
            .and_then(|v| v.as_i64());
        Some(SessionInfo {
            handle: handle(&id),
            browser: describe_browser(&client.agent),
            address: client.address,
            signed_in_at: signed_in_at
                .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
                .map(rfc3339),
            last_seen: rfc3339(expiry - time::Duration::days(IDLE_DAYS)),
            method: record
                .data
                .get(METHOD)
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            current: current == Some(id.as_str()),
        })
    });
    Ok(listed.collect())
}

/// Ends the user's session named by `handle`, unless it is `current` (signing out ends that
/// one). Whether one ended.
pub async fn end(
    pool: &PgPool,
    user_id: i64,
    handle: &str,
    current: &str,
) -> Result<bool, AppError> {
    let ended = sqlx::query(
        "delete from tower_sessions.session
         where user_id = $1 and encode(sha256(convert_to(id, 'UTF8')), 'hex') = $2 and id <> $3",
    )
    .bind(user_id)
    .bind(handle)
    .bind(current)
    .execute(pool)
    .await?;
    Ok(ended.rows_affected() == 1)
}

/// Ends every session of the user but `current`; how many ended.
pub async fn end_others(pool: &PgPool, user_id: i64, current: &str) -> Result<u64, AppError> {
    let ended = sqlx::query("delete from tower_sessions.session where user_id = $1 and id <> $2")
        .bind(user_id)
        .bind(current)
        .execute(pool)
        .await?;
    Ok(ended.rows_affected())
}

/// "Firefox on Linux" from a `User-Agent`: a label for people, not a check of anything.
pub fn describe_browser(agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .into_iter()
    .find(|(mark, _)| agent.contains(mark))
    .map_or("A browser", |(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(mark, _)| agent.contains(mark))
    .map(|(_, name)| name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_owned(),
    }
}

/// Ends every session of the user (a new `auth_epoch`: the sessions that carry the old one are
/// signed out at their next request) and answers the user as the session now holds them.
pub(super) async fn new_epoch(
    tx: &mut sqlx::PgConnection,
    user_id: i64,
) -> Result<SessionUser, AppError> {
    sqlx::query_as(
        "update users set auth_epoch = gen_random_uuid() where id = $1 and not disabled
         returning id, email, is_admin, auth_epoch::text as epoch,
                unread_notices(id) as unread_notices",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::Unauthorized)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn load_in_request(store: &Sessions, id: &Id, user: i64) -> Option<Option<SessionUser>> {
        LOADED
            .scope(RefCell::new(None), async {
                assert!(store.load(id).await.unwrap().is_some(), "the session loads");
                let handed = loaded_user(user);
                if handed.is_some() {
                    assert!(loaded_user(user).is_none(), "handed over once");
                }
                handed
            })
            .await
    }

    async fn column(pool: &PgPool, id: &Id) -> Option<i64> {
        sqlx::query_scalar("select user_id from tower_sessions.session where id = $1")
            .bind(id.to_string())
            .fetch_one(pool)
            .await
            .unwrap()
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn a_session_load_reads_its_user_in_the_same_query(pool: PgPool) {
        let user: i64 = sqlx::query_scalar(
            "insert into users (email, password_hash) values ('s@example.com', 'x') returning id",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        let store = Sessions::new(Db::new(pool.clone()));
        // Two notices, one of them read: the header's count comes with the user.
        sqlx::query(
            "insert into notices (user_id, subject, body, read_at)
             values ($1, 'a', 'b', null), ($1, 'c', 'd', now())",
        )
        .bind(user)
        .execute(&pool)
        .await
        .unwrap();
        let mut record = Record {
            id: Id::default(),
            data: [(
                AUTH_DATA_KEY.to_owned(),
                json!({ "user_id": user, "auth_hash": [1, 2, 3] }),
            )]
            .into(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        store.create(&mut record).await.unwrap();
        assert_eq!(column(&pool, &record.id).await, Some(user));
        // A new session whose id is taken gets another; the first is left as it was.
        let mut clash = Record {
            id: record.id,
            data: Default::default(),
            expiry_date: record.expiry_date,
        };
        store.create(&mut clash).await.unwrap();
        assert_ne!(clash.id, record.id);
        assert_eq!(column(&pool, &record.id).await, Some(user));
        let loaded = store.load(&record.id).await.unwrap().unwrap();
        assert_eq!(loaded.data, record.data, "the data round-trips");

        let read = load_in_request(&store, &record.id, user).await;
        let read = read
            .expect("read with the session")
            .expect("an enabled user");
        assert_eq!(
            (read.id, read.email.as_str(), read.unread_notices),
            (user, "s@example.com", 1)
        );
        // Asked for another user, it answers nothing (that user is read on their own).
        assert!(load_in_request(&store, &record.id, user + 1)
            .await
            .is_none());

        // A disabled user is no user, as in `get_user`'s own query.
        sqlx::query("update users set disabled = true where id = $1")
            .bind(user)
            .execute(&pool)
            .await
            .unwrap();
        assert!(matches!(
            load_in_request(&store, &record.id, user).await,
            Some(None)
        ));

        // A session saved before the column existed still loads; its user is read on their own.
        sqlx::query("update tower_sessions.session set user_id = null")
            .execute(&pool)
            .await
            .unwrap();
        assert!(load_in_request(&store, &record.id, user).await.is_none());

        // Signing out saves the session without a user: the column follows.
        store.save(&record).await.unwrap();
        assert_eq!(column(&pool, &record.id).await, Some(user));
        record.data.clear();
        store.save(&record).await.unwrap();
        assert_eq!(column(&pool, &record.id).await, None);

        // An expired session is no session; a deleted one neither.
        record.expiry_date = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
        store.save(&record).await.unwrap();
        assert!(store.load(&record.id).await.unwrap().is_none());
        store.delete(&record.id).await.unwrap();
        let left: Vec<String> = sqlx::query_scalar("select id from tower_sessions.session")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(left, [clash.id.to_string()]);
    }
}
