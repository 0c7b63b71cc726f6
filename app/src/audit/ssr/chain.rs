//! The hash chain, checked from Rust: each row's SHA-256 over the previous row's hash in its
//! shard and the row's canonical form. The canonical form is computed here independently of the
//! database's `audit_canonical`, so a tampered function cannot vouch for tampered rows. Each
//! shard (see the migration `…_audit_shards`) is walked as a chain of its own; rows of all
//! shards are read once, in time order, which is each shard's own order.

use futures::TryStreamExt;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use sqlx::{PgExecutor, PgPool};

use std::collections::{BTreeMap, VecDeque};

use super::digest::{self, Head, Pin};
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
    e.outcome, e.class, e.aws_request_id, e.detail::text as detail, e.prev_hash, e.hash,
    e.shard, coalesce(e.seq, e.id) as "seq""#;

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
    /// Which chain the row is in, and its place there (1, 2, … with no gap); outside the hash.
    pub shard: i16,
    pub seq: i64,
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

/// Walks one shard's rows in chain order from an anchor (the genesis, or the shard's last
/// archived row), stopping at the first break.
#[derive(Debug)]
pub struct Walker {
    /// The last row walked (or the anchor): its place, id and hash.
    last_seq: i64,
    last_id: i64,
    last_hash: Vec<u8>,
    anchor_seq: i64,
    pub first_id: Option<i64>,
    pub rows: u64,
}

impl Walker {
    /// A walk that continues after the row at `last_seq` (id `last_id`, hash `last_hash`).
    pub fn after(last_seq: i64, last_id: i64, last_hash: Vec<u8>) -> Self {
        Walker {
            last_seq,
            last_id,
            last_hash,
            anchor_seq: last_seq,
            first_id: None,
            rows: 0,
        }
    }

    pub fn step(&mut self, row: &ChainRow) -> Result<(), ChainBreak> {
        let after = self.last_id;
        if row.seq <= self.last_seq || row.id <= self.last_id {
            return Err(ChainBreak::OutOfOrder { id: row.id, after });
        }
        if row.seq > self.last_seq + 1 {
            return Err(ChainBreak::Removed {
                after,
                before: row.id,
                rows: row.seq - self.last_seq - 1,
            });
        }
        if !row.holds() {
            return Err(ChainBreak::Altered { id: row.id });
        }
        if row.prev_hash != self.last_hash {
            return Err(ChainBreak::Unlinked { id: row.id, after });
        }
        self.last_seq = row.seq;
        self.last_id = row.id;
        self.last_hash.clone_from(&row.hash);
        self.first_id.get_or_insert(row.id);
        self.rows += 1;
        Ok(())
    }

    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }

    pub fn last_id(&self) -> i64 {
        self.last_id
    }

    pub fn last_hash(&self) -> &[u8] {
        &self.last_hash
    }

    /// Whether the row at `seq` was archived before this walk began.
    fn archived(&self, seq: i64) -> bool {
        seq <= self.anchor_seq
    }
}

/// A walker per shard, each starting after its shard's newest archived row.
#[derive(Debug, Default)]
pub struct Walks(pub BTreeMap<i16, Walker>);

impl Walks {
    pub async fn from_archives<'c>(db: impl PgExecutor<'c>) -> Result<Self, AppError> {
        let anchors = sqlx::query!(
            r#"select distinct on (shard) shard, last_id, last_hash,
                      coalesce(last_seq, last_id) as "last_seq!"
               from audit_archives order by shard, month desc"#
        )
        .fetch_all(db)
        .await?;
        Ok(Walks(
            anchors
                .into_iter()
                .map(|a| (a.shard, Walker::after(a.last_seq, a.last_id, a.last_hash)))
                .collect(),
        ))
    }

    /// The walker of `shard`, from the genesis if the shard has nothing archived.
    pub fn shard(&mut self, shard: i16) -> &mut Walker {
        self.0
            .entry(shard)
            .or_insert_with(|| Walker::after(0, 0, GENESIS.to_vec()))
    }

    pub fn rows(&self) -> u64 {
        self.0.values().map(|w| w.rows).sum()
    }

    fn report(&self, heads: &[Head], problem: Option<ChainBreak>) -> ChainReport {
        ChainReport {
            rows: self.rows(),
            shards: heads.len() as u32,
            first_id: self
                .0
                .values()
                .filter_map(|w| w.first_id)
                .min()
                .unwrap_or(0),
            problem,
            last_id: heads.iter().map(|h| h.last_id).max().unwrap_or(0),
            root: hex::encode(digest::root(heads)),
            pins_checked: 0,
        }
    }
}

/// Walks the whole remaining chain, streamed (constant memory), and then checks that each shard
/// ends where its head says it does (so removing the newest rows shows too). The archives, the
/// rows and the heads are read in one snapshot (`repeatable read`, read only): rows appended
/// while the walk runs are in neither the rows nor the heads it compares, so a live system is
/// never reported as having lost its newest rows.
pub async fn verify(pool: &PgPool) -> Result<ChainReport, AppError> {
    verify_against(pool, &[]).await
}

/// [`verify`], and each of `pins` (signed digests of earlier heads, kept where the database
/// cannot reach) still names a row of its shard with the hash it had: a trail rewritten whole,
/// with hashes recomputed and the heads moved, holds as a chain but not against its digests.
/// Pins on rows archived since are not compared here (their files have their own hashes).
pub async fn verify_against(pool: &PgPool, pins: &[Pin]) -> Result<ChainReport, AppError> {
    // per shard, oldest first
    let mut pending: BTreeMap<i16, VecDeque<&Pin>> = BTreeMap::new();
    let mut sorted: Vec<&Pin> = pins.iter().collect();
    sorted.sort_by_key(|pin| (pin.head.shard, pin.head.last_seq));
    for pin in sorted {
        pending.entry(pin.head.shard).or_default().push_back(pin);
    }
    let mut checked = 0;
    let mut tx = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let mut walks = Walks::from_archives(&mut *tx).await?;
    let heads = digest::heads(&mut *tx).await?;
    for head in &heads {
        walks.shard(head.shard);
    }
    let query = format!(
        "select {ROW_COLUMNS} from audit_events e left join users u on u.id = e.actor_id
         order by e.at, e.id"
    );
    let mut rows = sqlx::query_as::<_, ChainRow>(&query).fetch(&mut *tx);
    while let Some(row) = rows.try_next().await? {
        let Some(walker) = walks.0.get_mut(&row.shard) else {
            let problem = ChainBreak::Stray {
                id: row.id,
                shard: row.shard,
            };
            return Ok(walks.report(&heads, Some(problem)));
        };
        let stepped = walker
            .step(&row)
            .and_then(|()| match pending.get_mut(&row.shard) {
                Some(pins) => compare_pins(walker, pins, &row),
                None => Ok(0),
            });
        match stepped {
            Ok(compared) => checked += compared,
            Err(problem) => return Ok(walks.report(&heads, Some(problem))),
        }
    }
    drop(rows);
    tx.commit().await?;
    let problem = heads
        .iter()
        .find_map(|head| ends_at_head(&walks.0[&head.shard], head))
        .or_else(|| removed_since(&walks, &pending));
    Ok(ChainReport {
        pins_checked: checked,
        ..walks.report(&heads, problem)
    })
}

/// Compares `row` (just walked) with the pins of its shard it reaches: how many it matched.
fn compare_pins(
    walker: &Walker,
    pins: &mut VecDeque<&Pin>,
    row: &ChainRow,
) -> Result<u64, ChainBreak> {
    let mut compared = 0;
    while let Some(pin) = pins
        .front()
        .copied()
        .filter(|pin| pin.head.last_seq <= row.seq)
    {
        pins.pop_front();
        if walker.archived(pin.head.last_seq) {
            continue;
        }
        if pin.head.last_hash != row.hash {
            return Err(ChainBreak::Rewritten {
                id: pin.head.last_id,
                at: pin.at.clone(),
            });
        }
        compared += 1;
    }
    Ok(compared)
}

/// Whether a shard's walk ended at the row its head names.
fn ends_at_head(walker: &Walker, head: &Head) -> Option<ChainBreak> {
    if walker.last_seq() > head.last_seq {
        // rows written past the head were not appended through the chain
        Some(ChainBreak::OutOfOrder {
            id: walker.last_id(),
            after: head.last_id,
        })
    } else if walker.last_seq() < head.last_seq {
        Some(ChainBreak::Truncated {
            head: head.last_id,
            last: walker.last_id(),
        })
    } else if head.last_hash != walker.last_hash() {
        Some(ChainBreak::Altered { id: head.last_id })
    } else {
        None
    }
}

/// A digest past a shard's end (or of a shard that is gone): the shard was cut back, head and
/// all. Named by the newest such digest.
fn removed_since(walks: &Walks, pending: &BTreeMap<i16, VecDeque<&Pin>>) -> Option<ChainBreak> {
    pending.iter().find_map(|(shard, pins)| {
        let (after, last_seq) = walks
            .0
            .get(shard)
            .map_or((0, 0), |w| (w.last_id(), w.last_seq()));
        pins.iter()
            .rfind(|pin| pin.head.last_seq > last_seq)
            .map(|pin| ChainBreak::RemovedSince {
                after,
                to: pin.head.last_id,
                at: pin.at.clone(),
            })
    })
}
