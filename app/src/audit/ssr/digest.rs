//! The chain's head kept where the database cannot reach, as CloudTrail keeps digest files: on a
//! schedule and on demand, a digest (last id, last hash, time) signed with `AUDIT_DIGEST_KEY`
//! (HMAC-SHA256; a key of its own, never `SESSION_SECRET`) is written to `AUDIT_DIGEST_DIR`.
//! A role that can rewrite the whole trail (hashes recomputed, head moved) still cannot make the
//! trail agree with digests it cannot sign: `server audit verify --against DIR` compares them.
//! A digest covers every shard's head under one Merkle root.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{PgExecutor, PgPool};

use crate::{
    config::{AuditDigest, ExposeSecret},
    error::AppError,
};

/// One shard's head: its last row's position in the shard, id and hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Head {
    pub shard: i16,
    pub last_seq: i64,
    pub last_id: i64,
    #[serde(with = "hex::serde")]
    pub last_hash: Vec<u8>,
}

/// Every shard's head, in shard order.
pub async fn heads<'c>(db: impl PgExecutor<'c>) -> Result<Vec<Head>, AppError> {
    Ok(sqlx::query_as!(
        Head,
        "select shard, last_seq, last_id, last_hash from audit_chain order by shard"
    )
    .fetch_all(db)
    .await?)
}

/// The Merkle root over `heads` (in shard order), as RFC 6962 builds a tree: a leaf is SHA-256
/// over 0x00 and the head's fields, a node over 0x01 and its two children, and a tree of n > 1
/// leaves splits at the largest power of two below n. One signed root covers every shard, so
/// no shard can be cut back or left out without the digest showing it, and a single head can
/// be shown to be under a root with the few hashes on its path.
pub fn root(heads: &[Head]) -> [u8; 32] {
    match heads {
        [] => Sha256::digest(b"").into(),
        [head] => Sha256::new()
            .chain_update([0])
            .chain_update(head.shard.to_be_bytes())
            .chain_update(head.last_seq.to_be_bytes())
            .chain_update(head.last_id.to_be_bytes())
            .chain_update(&head.last_hash)
            .finalize()
            .into(),
        _ => {
            let split = 1 << (heads.len() - 1).ilog2();
            Sha256::new()
                .chain_update([1])
                .chain_update(root(&heads[..split]))
                .chain_update(root(&heads[split..]))
                .finalize()
                .into()
        }
    }
}

/// One shard's head as a digest pinned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pin {
    pub head: Head,
    /// When the digest was made (RFC 3339, UTC), to name it in a report.
    pub at: String,
}

/// A digest file's content: one JSON object, every head under one signed root. Digests written
/// before the chain had shards named one head, of what is now shard 0.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Signed {
    Heads {
        heads: Vec<Head>,
        /// For people reading the file; the signature is checked over the root recomputed
        /// from `heads`.
        root: String,
        at: String,
        hmac: String,
    },
    OneHead {
        last_id: i64,
        last_hash: String,
        at: String,
        hmac: String,
    },
}

/// The signature over what a digest states.
fn mac(key: &AuditDigest, signed: &Signed) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.key.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    // Fixed fields without separators in them (digits, hex, an RFC 3339 time): newline-joined.
    let text = match signed {
        Signed::Heads { heads, at, .. } => {
            format!(
                "crossview.audit-digest.v2\n{}\n{at}",
                hex::encode(root(heads))
            )
        }
        Signed::OneHead {
            last_id,
            last_hash,
            at,
            ..
        } => format!("crossview.audit-digest.v1\n{last_id}\n{last_hash}\n{at}"),
    };
    mac.update(text.as_bytes());
    mac
}

/// Writes a digest of every head now, as `audit-digest-<newest id>.json`. Ids come from one
/// sequence, so the newest id names the whole trail's state: a state already digested is left
/// as it is. Written to a temporary name and renamed, so a reader never sees half a digest.
pub async fn write(pool: &PgPool, key: &AuditDigest) -> Result<PathBuf, AppError> {
    // one statement reads every head as of one moment
    let heads = heads(pool).await?;
    let at: String = sqlx::query_scalar(
        r#"select to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"#,
    )
    .fetch_one(pool)
    .await?;
    let newest = heads.iter().map(|h| h.last_id).max().unwrap_or(0);
    let file = key.dir.join(format!("audit-digest-{newest:012}.json"));
    if file.exists() {
        return Ok(file);
    }
    let mut signed = Signed::Heads {
        root: hex::encode(root(&heads)),
        heads,
        at,
        hmac: String::new(),
    };
    let tag = hex::encode(mac(key, &signed).finalize().into_bytes());
    if let Signed::Heads { hmac, .. } = &mut signed {
        *hmac = tag;
    }
    let text = serde_json::to_string(&signed).map_err(AppError::internal)? + "\n";
    let partial = key
        .dir
        .join(format!(".audit-digest-{newest:012}.{}", std::process::id()));
    let written = async {
        tokio::fs::create_dir_all(&key.dir).await?;
        tokio::fs::write(&partial, text).await?;
        tokio::fs::rename(&partial, &file).await
    };
    written
        .await
        .map_err(|err| AppError::internal(format!("writing {}: {err}", file.display())))?;
    Ok(file)
}

/// Every digest in `dir`, each checked against the key: a file that is not a digest signed with
/// it (forged, altered, or signed with another key) is named in the error.
pub fn read(key: &AuditDigest, dir: &Path) -> Result<Vec<Pin>, String> {
    let entries = std::fs::read_dir(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let mut pins = Vec::new();
    for entry in entries {
        let path = entry.map_err(|err| err.to_string())?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !(name.starts_with("audit-digest-") && name.ends_with(".json")) {
            continue;
        }
        let refused = |why: &str| format!("{} is not a valid digest: {why}", path.display());
        let text = std::fs::read_to_string(&path).map_err(|err| refused(&err.to_string()))?;
        let signed: Signed =
            serde_json::from_str(&text).map_err(|err| refused(&err.to_string()))?;
        let (Signed::Heads { hmac, .. } | Signed::OneHead { hmac, .. }) = &signed;
        let tag = hex::decode(hmac).map_err(|_| refused("its hmac is not hex"))?;
        mac(key, &signed)
            .verify_slice(&tag)
            .map_err(|_| refused("its signature does not match AUDIT_DIGEST_KEY"))?;
        match signed {
            Signed::Heads { heads, at, .. } => pins.extend(heads.into_iter().map(|head| Pin {
                head,
                at: at.clone(),
            })),
            Signed::OneHead {
                last_id,
                last_hash,
                at,
                ..
            } => pins.push(Pin {
                head: Head {
                    shard: 0,
                    // before shards, ids were gapless: a row's place was its id
                    last_seq: last_id,
                    last_id,
                    last_hash: hex::decode(&last_hash).map_err(|_| refused("bad hash"))?,
                },
                at,
            }),
        }
    }
    Ok(pins)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(shard: i16) -> Head {
        Head {
            shard,
            last_seq: 10 + i64::from(shard),
            last_id: 100 + i64::from(shard),
            last_hash: vec![shard as u8; 32],
        }
    }

    /// RFC 6962's shape: three leaves are ((0, 1), 2); every head's every field counts.
    #[test]
    fn the_root_is_a_merkle_tree_over_every_head() {
        let heads: Vec<Head> = (0..3).map(head).collect();
        let leaf = |h: &Head| root(std::slice::from_ref(h));
        let node = |l: [u8; 32], r: [u8; 32]| -> [u8; 32] {
            Sha256::new()
                .chain_update([1])
                .chain_update(l)
                .chain_update(r)
                .finalize()
                .into()
        };
        let expected = node(node(leaf(&heads[0]), leaf(&heads[1])), leaf(&heads[2]));
        assert_eq!(root(&heads), expected);
        let five: Vec<Head> = (0..5).map(head).collect();
        assert_eq!(
            root(&five),
            node(root(&five[..4]), leaf(&five[4])),
            "five leaves split after four"
        );
        for change in 0..4 {
            let mut changed = heads.clone();
            match change {
                0 => changed[1].last_seq -= 1,
                1 => changed[1].last_id += 1,
                2 => changed[2].last_hash[0] ^= 1,
                _ => {
                    changed.pop();
                }
            }
            assert_ne!(root(&changed), expected, "change {change}");
        }
    }
}
