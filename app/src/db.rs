//! The database: the project's migrations, embedded once (the server runs them at start; every
//! `#[sqlx::test]` starts from them), and [`Db`], the pool with the connections kept for the
//! statements every page makes.

use std::{
    ops::{Deref, DerefMut},
    sync::{Arc, Mutex},
};

use sqlx::{migrate::Migrator, pool::PoolConnection, PgConnection, PgPool, Postgres};

pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// The pool, and connections kept warm beside it for the queries every page makes.
///
/// sqlx sends each connection it takes back a ping (one round trip), in case the query that
/// used it was cancelled half-way; a folder page's three queries cost three more round trips
/// that way. A connection whose statement ran to its end is known to be ready, so a [`Lease`]
/// whose work finished is kept here and the next one takes it without that ping. One that
/// failed or was cancelled goes back to sqlx as always (pinged, closed if broken), and the
/// kept ones with it: after an error (Postgres restarted, say) none of them is trusted.
#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
    kept: Arc<Mutex<Vec<PoolConnection<Postgres>>>>,
    /// At most this many are kept: the rest of the pool stays with sqlx for everything else.
    most: usize,
}

impl Db {
    pub fn new(pool: PgPool) -> Self {
        let most = (pool.options().get_max_connections() as usize / 2).max(1);
        Db {
            pool,
            kept: Arc::default(),
            most,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A connection: a kept one, else one from the pool.
    pub async fn lease(&self) -> Result<Lease, sqlx::Error> {
        let kept = self.lock().pop();
        let conn = match kept {
            Some(conn) => conn,
            None => self.pool.acquire().await?,
        };
        Ok(Lease {
            conn: Some(conn),
            db: self.clone(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<PoolConnection<Postgres>>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One connection for a few statements. Call [`Lease::done`] once they all succeeded; dropped
/// without it, the connection goes back to sqlx to be checked.
#[derive(Debug)]
pub struct Lease {
    conn: Option<PoolConnection<Postgres>>,
    db: Db,
}

impl Lease {
    /// Every statement on this connection ran to its end: it is ready for the next request.
    pub fn done(mut self) {
        if let Some(conn) = self.conn.take() {
            let mut kept = self.db.lock();
            if kept.len() < self.db.most {
                kept.push(conn);
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.conn.is_some() {
            // Not done: an error or a cancellation. The kept connections go back to sqlx too
            // (outside the lock), each checked on its way.
            let kept = std::mem::take(&mut *self.db.lock());
            drop(kept);
        }
    }
}

impl Deref for Lease {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.conn
            .as_deref()
            .expect("a lease holds its connection until done")
    }
}

impl DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn
            .as_deref_mut()
            .expect("a lease holds its connection until done")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn backend(lease: &mut Lease) -> i32 {
        sqlx::query_scalar("select pg_backend_pid()")
            .fetch_one(&mut **lease)
            .await
            .unwrap()
    }

    #[sqlx::test(migrations = false)]
    async fn a_finished_lease_is_kept_and_a_failed_one_is_not(pool: PgPool) {
        let db = Db::new(pool);
        let mut first = db.lease().await.unwrap();
        let pid = backend(&mut first).await;
        first.done();
        assert_eq!(db.lock().len(), 1, "kept after its statements finished");

        let mut again = db.lease().await.unwrap();
        assert_eq!(
            backend(&mut again).await,
            pid,
            "the kept connection is taken first"
        );
        assert!(db.lock().is_empty());
        again.done();

        // A failed statement: the lease is dropped unfinished, and nothing stays kept.
        let mut failing = db.lease().await.unwrap();
        let mut other = db.lease().await.unwrap();
        backend(&mut other).await;
        other.done();
        assert_eq!(db.lock().len(), 1);
        let err = sqlx::query("select 1/0").execute(&mut *failing).await;
        assert!(err.is_err());
        drop(failing);
        assert!(
            db.lock().is_empty(),
            "after an error no kept connection is trusted"
        );
        assert_eq!(
            db.pool().size(),
            2,
            "both went back to the pool, not closed"
        );
    }
}
