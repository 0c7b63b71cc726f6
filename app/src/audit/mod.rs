//! The audit log: every role assumption and every connection change, append-only.

#[cfg(feature = "ssr")]
pub mod ssr;

use serde::{Deserialize, Serialize};

/// One row of the log as admins see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: Option<String>,
    pub connection_id: Option<i64>,
    pub action: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub outcome: String,
    pub aws_request_id: Option<String>,
}
