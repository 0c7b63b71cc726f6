//! Exports: the rows of a search, oldest first (chain order), with their hashes, as CSV or
//! NDJSON, streamed from the database as the client reads them: a bounded channel between the
//! query and the response body keeps the server's memory constant whatever the size.

use futures::{Stream, TryStreamExt};
use sqlx::{PgPool, QueryBuilder};

use super::{chain::ChainRow, chain::ROW_COLUMNS, search::Criteria};
use crate::{audit::AuditFilter, error::AppError};

/// How many encoded bytes make one chunk of the response.
const CHUNK: usize = 64 * 1024;
/// Chunks encoded ahead of the client: the most memory an export holds.
const AHEAD: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "csv" => Some(Format::Csv),
            "ndjson" => Some(Format::Ndjson),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
        }
    }

    /// The first line of the file, if the format has one.
    fn header(self) -> &'static str {
        match self {
            Format::Csv => "id,at,actor_id,actor,connection_id,account_id,action,bucket,key,outcome,class,aws_request_id,detail,prev_hash,hash,shard,seq\n",
            Format::Ndjson => "",
        }
    }

    pub fn write(self, row: &ChainRow, out: &mut Vec<u8>) {
        match self {
            Format::Ndjson => {
                // a ChainRow always serializes
                let _ = serde_json::to_writer(&mut *out, row);
                out.push(b'\n');
            }
            Format::Csv => {
                let id = row.id.to_string();
                let actor_id = row.actor_id.map(|v| v.to_string());
                let connection_id = row.connection_id.map(|v| v.to_string());
                let prev_hash = hex::encode(&row.prev_hash);
                let hash = hex::encode(&row.hash);
                let (shard, seq) = (row.shard.to_string(), row.seq.to_string());
                let cells = [
                    Some(id.as_str()),
                    Some(row.at.as_str()),
                    actor_id.as_deref(),
                    row.actor.as_deref(),
                    connection_id.as_deref(),
                    row.account_id.as_deref(),
                    Some(row.action.as_str()),
                    row.bucket.as_deref(),
                    row.key.as_deref(),
                    Some(row.outcome.as_str()),
                    Some(row.class.as_str()),
                    row.aws_request_id.as_deref(),
                    Some(row.detail.as_str()),
                    Some(prev_hash.as_str()),
                    Some(hash.as_str()),
                    Some(shard.as_str()),
                    Some(seq.as_str()),
                ];
                for (i, cell) in cells.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    // Every text quoted, quotes doubled (RFC 4180); null is an unquoted empty
                    // cell, the empty text `""`.
                    if let Some(text) = cell {
                        out.push(b'"');
                        if defused(text) {
                            out.push(b'\'');
                        }
                        out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
                        out.push(b'"');
                    }
                }
                out.push(b'\n');
            }
        }
    }
}

/// Whether a spreadsheet would take `text` for a formula (OWASP's CSV injection list), or it
/// starts with the quote that marks a defused one: such cells get a leading `'`, which the
/// offline verifier takes off again, so every cell still reads back as exactly what was hashed.
/// NDJSON is the byte-exact format and is left as it is.
fn defused(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r', '\''])
}

/// The rows matching `filter` (its page cursor ignored), oldest first, encoded as `format`.
/// The query runs on its own task; an error after the first bytes ends the body early (the
/// client sees a broken download, never a silently short file).
pub fn export(
    pool: PgPool,
    filter: &AuditFilter,
    format: Format,
) -> Result<impl Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static, AppError> {
    let criteria = Criteria::try_from(&filter.at_page(None))?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(AHEAD);
    tokio::spawn(async move {
        let mut q = QueryBuilder::new(format!(
            "select {ROW_COLUMNS} from audit_events e left join users u on u.id = e.actor_id
             where true"
        ));
        criteria.push_where(&mut q);
        q.push(criteria.order_by("asc"));
        let mut rows = q.build_query_as::<ChainRow>().fetch(&pool);
        let mut chunk = format.header().as_bytes().to_vec();
        loop {
            match rows.try_next().await {
                Ok(Some(row)) => {
                    format.write(&row, &mut chunk);
                    if chunk.len() >= CHUNK {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK * 2));
                        if tx.send(Ok(full)).await.is_err() {
                            return; // the client went away
                        }
                    }
                }
                Ok(None) => {
                    let _ = tx.send(Ok(chunk)).await;
                    return;
                }
                Err(err) => {
                    let err = AppError::from(err);
                    let _ = tx.send(Err(std::io::Error::other(err.to_string()))).await;
                    return;
                }
            }
        }
    });
    Ok(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}
