//! The hash chain, checked from Rust: each row's SHA-256 over the previous row's hash and the
//! row's canonical form. The canonical form is computed here independently of the database's
//! `audit_canonical`, so a tampered function cannot vouch for tampered rows.

use futures::TryStreamExt;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use sqlx::{PgExecutor, PgPool};

use super::digest::Pin;
use crate::{
    audit::{ChainBreak, ChainReport},
    error::AppError,
};

/// The chain's first `prev_hash`.
pub const GENESIS: [u8; 32] = [0; 32];

/// The columns of a [`ChainRow`], for `select … from audit_events e left join users u …`.
pub const ROW_COLUMNS: &str = r#"e.id, to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at,
    e.actor_id,
    coalesce(u.email, case e.actor_kind
        when 'anonymous' then 'anonymous (link ' || coalesce(e.detail->>'link', '?') || ')'
        when 'operator' then 'operator' end) as actor,
    e.connection_id, e.account_id, e.action, e.bucket, e.key,
    e.outcome, e.class, e.aws_request_id, e.detail::text as detail, e.prev_hash, e.hash"#;

/// A row as stored, and as exported (the actor's name is the only field outside the hash: a
/// user's email, `operator`, or `anonymous (link N)`).
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct ChainRow {
    pub id: i64,
    /// UTC with microseconds, as the hash covers it.
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: Option<String>,
    pub connection_id: Option<i64>,
    pub account_id: Option<String>,
    pub action: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub outcome: String,
    pub class: String,
    pub aws_request_id: Option<String>,
    /// The JSON text exactly as stored.
    pub detail: String,
    #[serde(serialize_with = "as_hex")]
    pub prev_hash: Vec<u8>,
    #[serde(serialize_with = "as_hex")]
    pub hash: Vec<u8>,
}

fn as_hex<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

impl ChainRow {
    /// What the row's hash covers: each field as its UTF-8 length, `:` and the text, or `-`
    /// for null (the same bytes as the migration's `audit_canonical`).
    pub fn canonical(&self) -> Vec<u8> {
        let id = self.id.to_string();
        let actor_id = self.actor_id.map(|v| v.to_string());
        let connection_id = self.connection_id.map(|v| v.to_string());
        let fields = [
            Some(id.as_str()),
            Some(self.at.as_str()),
            actor_id.as_deref(),
            connection_id.as_deref(),
            self.account_id.as_deref(),
            Some(self.action.as_str()),
            self.bucket.as_deref(),
            self.key.as_deref(),
            Some(self.outcome.as_str()),
            Some(self.class.as_str()),
            self.aws_request_id.as_deref(),
            Some(self.detail.as_str()),
        ];
        let mut out = Vec::with_capacity(256);
        for field in fields {
            match field {
                None => out.push(b'-'),
                Some(text) => {
                    out.extend_from_slice(text.len().to_string().as_bytes());
                    out.push(b':');
                    out.extend_from_slice(text.as_bytes());
                }
            }
        }
        out
    }

    /// Whether the row hashes to its stored hash from its stored `prev_hash`.
    pub fn holds(&self) -> bool {
        let digest = Sha256::new()
            .chain_update(&self.prev_hash)
            .chain_update(self.canonical())
            .finalize();
        digest.as_slice() == self.hash.as_slice()
    }
}

/// Walks rows in chain order from an anchor (the genesis, or the last archived row), stopping
/// at the first break.
#[derive(Debug)]
pub struct Walker {
    next_id: i64,
    prev_hash: Vec<u8>,
    pub first_id: i64,
    pub rows: u64,
}

impl Walker {
    /// A walk that continues after row `last_id`, whose hash was `last_hash`.
    pub fn after(last_id: i64, last_hash: Vec<u8>) -> Self {
        Walker {
            next_id: last_id + 1,
            prev_hash: last_hash,
            first_id: last_id + 1,
            rows: 0,
        }
    }

    /// Where the database's remaining chain starts: after the newest archived month.
    pub async fn from_archives<'c>(db: impl PgExecutor<'c>) -> Result<Self, AppError> {
        let anchor = sqlx::query!(
            "select last_id, last_hash from audit_archives order by last_id desc limit 1"
        )
        .fetch_optional(db)
        .await?;
        Ok(match anchor {
            Some(a) => Walker::after(a.last_id, a.last_hash),
            None => Walker::after(0, GENESIS.to_vec()),
        })
    }

    pub fn step(&mut self, row: &ChainRow) -> Result<(), ChainBreak> {
        let after = self.next_id - 1;
        if row.id < self.next_id {
            return Err(ChainBreak::OutOfOrder { id: row.id, after });
        }
        if row.id > self.next_id {
            return Err(ChainBreak::Removed {
                from: self.next_id,
                to: row.id - 1,
            });
        }
        if !row.holds() {
            return Err(ChainBreak::Altered { id: row.id });
        }
        if row.prev_hash != self.prev_hash {
            return Err(ChainBreak::Unlinked { id: row.id, after });
        }
        self.next_id += 1;
        self.prev_hash.clone_from(&row.hash);
        self.rows += 1;
        Ok(())
    }

    pub fn last_id(&self) -> i64 {
        self.next_id - 1
    }

    pub fn last_hash(&self) -> &[u8] {
        &self.prev_hash
    }

    fn report(&self, problem: Option<ChainBreak>) -> ChainReport {
        ChainReport {
            rows: self.rows,
            first_id: self.first_id,
            problem,
            last_id: self.last_id(),
            last_hash: hex::encode(&self.prev_hash),
            digests_checked: 0,
        }
    }
}

/// Walks the whole remaining chain, streamed (constant memory), and then checks that it ends
/// where the chain's head says it does (so removing the newest rows shows too). The archives,
/// the rows and the head are read in one snapshot (`repeatable read`, read only): rows appended
/// while the walk runs are in neither the rows nor the head it compares, so a live system is
/// never reported as having lost its newest rows.
pub async fn verify(pool: &PgPool) -> Result<ChainReport, AppError> {
    verify_against(pool, &[]).await
}

/// [`verify`], and each of `pins` (signed digests of earlier heads, kept where the database
/// cannot reach) still names a row of the chain with the hash it had: a trail rewritten whole,
/// with hashes recomputed and the head moved, holds as a chain but not against its digests.
/// Pins on months archived since are not compared here (their files have their own hashes).
pub async fn verify_against(pool: &PgPool, pins: &[Pin]) -> Result<ChainReport, AppError> {
    let mut pins: Vec<&Pin> = pins.iter().collect();
    pins.sort_by_key(|pin| pin.last_id);
    let mut pending = pins.into_iter().peekable();
    let mut checked = 0;
    let mut tx = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let mut walker = Walker::from_archives(&mut *tx).await?;
    let head = sqlx::query!("select last_id, last_hash from audit_chain")
        .fetch_one(&mut *tx)
        .await?;
    let query = format!(
        "select {ROW_COLUMNS} from audit_events e left join users u on u.id = e.actor_id
         order by e.at, e.id"
    );
    let mut rows = sqlx::query_as::<_, ChainRow>(&query).fetch(&mut *tx);
    while let Some(row) = rows.try_next().await? {
        if let Err(problem) = walker.step(&row) {
            return Ok(walker.report(Some(problem)));
        }
        while let Some(pin) = pending.next_if(|pin| pin.last_id <= row.id) {
            if pin.last_id < walker.first_id {
                continue; // archived since
            }
            if pin.last_hash != row.hash {
                let problem = ChainBreak::Rewritten {
                    id: row.id,
                    at: pin.at.clone(),
                };
                return Ok(walker.report(Some(problem)));
            }
            checked += 1;
        }
    }
    drop(rows);
    tx.commit().await?;
    let problem = if walker.last_id() > head.last_id {
        // rows written past the head were not appended through the chain
        Some(ChainBreak::OutOfOrder {
            id: head.last_id + 1,
            after: head.last_id,
        })
    } else if head.last_id != walker.last_id() {
        Some(ChainBreak::Truncated {
            head: head.last_id,
            last: walker.last_id(),
        })
    } else if head.last_hash != walker.last_hash() {
        Some(ChainBreak::Altered { id: head.last_id })
    } else {
        // A digest past the end: the chain was cut back, head and all.
        pending
            .rfind(|pin| pin.last_id > walker.last_id())
            .map(|pin| ChainBreak::RemovedSince {
                from: walker.last_id() + 1,
                to: pin.last_id,
                at: pin.at.clone(),
            })
    };
    Ok(ChainReport {
        digests_checked: checked,
        ..walker.report(problem)
    })
}
