//! Retention: whole months leave the database as files, with their chain, and their partitions
//! are detached and dropped. `audit_archives` remembers where the remaining chain starts.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use futures::TryStreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::{Date, Month};

use super::{
    chain::{ChainRow, Walks, ROW_COLUMNS},
    record, Event, Format,
};
use crate::audit::{Activity, Outcome};

/// One month written to a file and dropped.
#[derive(Debug)]
pub struct Archived {
    pub month: String,
    pub rows: u64,
    pub file: PathBuf,
    pub sha256: String,
}

/// Archives every month before `before` (`YYYY-MM`, not after this month), oldest first, into
/// `dir` as `audit-YYYY-MM.ndjson`. Each month's chain is checked while it is written; a break
/// stops the archive before anything is dropped. Audited as done by the operator.
pub async fn archive(pool: &PgPool, before: &str, dir: &Path) -> Result<Vec<Archived>, String> {
    let limit = parse_month(before).ok_or("the month reads YYYY-MM, like 2026-03")?;
    let this_month = time::OffsetDateTime::now_utc()
        .date()
        .replace_day(1)
        .expect("day 1");
    if limit > this_month {
        return Err("only months before this one can be archived".to_owned());
    }
    let partitions: Vec<String> = sqlx::query_scalar!(
        r#"select c.relname::text as "name!" from pg_inherits i join pg_class c on c.oid = i.inhrelid
           where i.inhparent = 'audit_events'::regclass order by 1"#
    )
    .fetch_all(pool)
    .await
    .map_err(database)?;
    let mut done = Vec::new();
    for name in partitions {
        let Some(month) = name.strip_prefix("audit_events_").and_then(partition_month) else {
            continue;
        };
        if month >= limit {
            break;
        }
        done.push(archive_month(pool, &name, month, dir).await?);
    }
    Ok(done)
}

async fn archive_month(
    pool: &PgPool,
    partition: &str,
    month: Date,
    dir: &Path,
) -> Result<Archived, String> {
    let label = format!("{}-{:02}", month.year(), month.month() as u8);
    let path = dir.join(format!("audit-{label}.ndjson"));
    let mut file = std::io::BufWriter::new(
        std::fs::File::create_new(&path)
            .map_err(|err| format!("cannot create {}: {err}", path.display()))?,
    );
    let mut walks = Walks::from_archives(pool)
        .await
        .map_err(|e| e.to_string())?;
    let mut digest = Sha256::new();
    let mut line = Vec::with_capacity(1024);
    // the name came from the catalog and matched audit_events_YYYY_MM
    let query = format!(
        "select {ROW_COLUMNS} from {partition} e left join users u on u.id = e.actor_id
         order by e.at, e.id"
    );
    let mut rows = sqlx::query_as::<_, ChainRow>(&query).fetch(pool);
    let written: Result<(), String> = async {
        while let Some(row) = rows.try_next().await.map_err(database)? {
            walks.shard(row.shard).step(&row).map_err(|b| {
                format!("{label}: {b}; nothing was archived (see server audit verify)")
            })?;
            line.clear();
            Format::Ndjson.write(&row, &mut line);
            digest.update(&line);
            file.write_all(&line).map_err(|e| e.to_string())?;
        }
        file.flush().map_err(|e| e.to_string())?;
        file.get_ref().sync_all().map_err(|e| e.to_string())
    }
    .await;
    drop(rows);
    if let Err(why) = written {
        let _ = std::fs::remove_file(&path);
        return Err(why);
    }
    let sha256 = hex::encode(digest.finalize());
    let file_name = path.display().to_string();

    let mut tx = pool.begin().await.map_err(database)?;
    // one row per shard that had rows this month: where that shard's remaining chain starts
    for (shard, walker) in walks.0.iter().filter(|(_, w)| w.rows > 0) {
        sqlx::query!(
            "insert into audit_archives (month, shard, first_id, last_id, last_seq, last_hash,
                                         rows, file, file_sha256)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            month,
            shard,
            walker.first_id,
            walker.last_id(),
            walker.last_seq(),
            walker.last_hash(),
            walker.rows as i64,
            file_name,
            sha256
        )
        .execute(&mut *tx)
        .await
        .map_err(database)?;
    }
    for statement in [
        format!("alter table audit_events detach partition {partition}"),
        format!("drop table {partition}"),
    ] {
        sqlx::query(&statement)
            .execute(&mut *tx)
            .await
            .map_err(database)?;
    }
    let event = Event {
        detail: Some(json!({
            "by": "operator", "month": label, "rows": walks.rows(), "file": file_name,
            "sha256": sha256, "shards": walks.0.values().filter(|w| w.rows > 0).count(),
        })),
        ..Event::new(Activity::AuditArchive, Outcome::Ok)
    };
    record(&mut *tx, event).await.map_err(|e| e.to_string())?;
    tx.commit().await.map_err(database)?;
    Ok(Archived {
        month: label,
        rows: walks.rows(),
        file: path,
        sha256,
    })
}

fn database(err: sqlx::Error) -> String {
    format!("database error: {err}")
}

/// `2026-03` → 2026-03-01.
fn parse_month(s: &str) -> Option<Date> {
    let (year, month) = s.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    let month = Month::try_from(month.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year.parse().ok()?, month, 1).ok()
}

/// `2026_03` (a partition's suffix) → 2026-03-01.
fn partition_month(suffix: &str) -> Option<Date> {
    parse_month(&suffix.replace('_', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_read_year_dash_month() {
        assert_eq!(
            parse_month("2026-03"),
            Date::from_calendar_date(2026, Month::March, 1).ok()
        );
        for bad in ["2026-13", "2026-3", "26-03", "2026-03-01", "", "march"] {
            assert_eq!(parse_month(bad), None, "{bad}");
        }
        assert_eq!(partition_month("2026_11"), parse_month("2026-11"));
    }
}
