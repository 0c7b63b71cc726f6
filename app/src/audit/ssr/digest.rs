//! The chain's head kept where the database cannot reach, as CloudTrail keeps digest files: on a
//! schedule and on demand, a digest (last id, last hash, time) signed with `AUDIT_DIGEST_KEY`
//! (HMAC-SHA256; a key of its own, never `SESSION_SECRET`) is written to `AUDIT_DIGEST_DIR`.
//! A role that can rewrite the whole trail (hashes recomputed, head moved) still cannot make the
//! trail agree with digests it cannot sign: `server audit verify --against DIR` compares them.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use sqlx::PgPool;

use crate::{
    config::{AuditDigest, ExposeSecret},
    error::AppError,
};

/// One head of the chain as a digest pinned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pin {
    pub last_id: i64,
    pub last_hash: Vec<u8>,
    /// When the digest was made (RFC 3339, UTC), to name it in a report.
    pub at: String,
}

/// A digest file's content: one JSON object.
#[derive(Debug, Serialize, Deserialize)]
struct Signed {
    last_id: i64,
    last_hash: String,
    at: String,
    hmac: String,
}

fn mac(key: &AuditDigest, last_id: i64, last_hash: &str, at: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.key.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    // Fixed fields without separators in them (digits, hex, an RFC 3339 time): newline-joined.
    mac.update(format!("crossview.audit-digest.v1\n{last_id}\n{last_hash}\n{at}").as_bytes());
    mac
}

/// Writes a digest of the chain's head now, as `audit-digest-<last id>.json` (one per head: a
/// head already digested is left as it is). Written to a temporary name and renamed, so a
/// reader never sees half a digest.
pub async fn write(pool: &PgPool, key: &AuditDigest) -> Result<PathBuf, AppError> {
    let (last_id, last_hash, at): (i64, Vec<u8>, String) = sqlx::query_as(
        r#"select last_id, last_hash,
                  to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
           from audit_chain"#,
    )
    .fetch_one(pool)
    .await?;
    let file = key.dir.join(format!("audit-digest-{last_id:012}.json"));
    if file.exists() {
        return Ok(file);
    }
    let last_hash = hex::encode(last_hash);
    let hmac = hex::encode(mac(key, last_id, &last_hash, &at).finalize().into_bytes());
    let signed = Signed {
        last_id,
        last_hash,
        at,
        hmac,
    };
    let text = serde_json::to_string(&signed).map_err(AppError::internal)? + "\n";
    let partial = key.dir.join(format!(
        ".audit-digest-{last_id:012}.{}",
        std::process::id()
    ));
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
        let tag = hex::decode(&signed.hmac).map_err(|_| refused("its hmac is not hex"))?;
        mac(key, signed.last_id, &signed.last_hash, &signed.at)
            .verify_slice(&tag)
            .map_err(|_| refused("its signature does not match AUDIT_DIGEST_KEY"))?;
        pins.push(Pin {
            last_id: signed.last_id,
            last_hash: hex::decode(&signed.last_hash).map_err(|_| refused("bad hash"))?,
            at: signed.at,
        });
    }
    Ok(pins)
}
