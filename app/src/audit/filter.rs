//! An audit search as the URL carries it: every filter and the page, so a link to a search is
//! the search.

use serde::{Deserialize, Serialize};

use crate::url::{encode_component, Query};

/// The outcome classes an auditor filters on.
pub const CLASSES: [&str; 3] = ["ok", "refused", "failed"];

/// The filters of one search, as typed (empty means "any"). Times are UTC, `2026-03-01` or
/// `2026-03-01T14:30`; `to` is exclusive. `before` is the cursor of the page to show.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    pub actor: String,
    pub connection: String,
    pub account: String,
    pub action: String,
    pub outcome: String,
    pub bucket: String,
    pub prefix: String,
    pub from: String,
    pub to: String,
    pub before: String,
}

impl AuditFilter {
    /// The names in the URL, in the order the form shows them.
    const FIELDS: [&'static str; 10] = [
        "actor",
        "connection",
        "account",
        "action",
        "outcome",
        "bucket",
        "prefix",
        "from",
        "to",
        "before",
    ];

    fn values(&self) -> [&String; 10] {
        [
            &self.actor,
            &self.connection,
            &self.account,
            &self.action,
            &self.outcome,
            &self.bucket,
            &self.prefix,
            &self.from,
            &self.to,
            &self.before,
        ]
    }

    pub fn from_query(query: &Query) -> Self {
        let get = |name: &str| query.get(name).unwrap_or_default().trim().to_owned();
        AuditFilter {
            actor: get("actor"),
            connection: get("connection"),
            account: get("account"),
            action: get("action"),
            outcome: get("outcome"),
            bucket: get("bucket"),
            // a prefix may end in a space that matters
            prefix: query.get("prefix").unwrap_or_default().to_owned(),
            from: get("from"),
            to: get("to"),
            before: get("before"),
        }
    }

    /// `actor=…&bucket=…` for the filters that are set, `before` included.
    pub fn to_query(&self) -> String {
        Self::FIELDS
            .iter()
            .zip(self.values())
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| format!("{name}={}", encode_component(value)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The same search, at the page starting after `cursor` (or the first page).
    pub fn at_page(&self, cursor: Option<&str>) -> Self {
        AuditFilter {
            before: cursor.unwrap_or_default().to_owned(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_survives_its_url() {
        let filter = AuditFilter {
            actor: "dana+audit@example.com".into(),
            account: "123456789012".into(),
            outcome: "refused".into(),
            bucket: "payroll".into(),
            prefix: "2026/März & <q> ".into(),
            from: "2026-03-01".into(),
            to: "2026-04-01T00:00".into(),
            before: "1772323200000000-42".into(),
            ..AuditFilter::default()
        };
        let url = filter.to_query();
        assert!(!url.contains("connection="), "{url}");
        assert_eq!(AuditFilter::from_query(&Query::parse(&url)), filter);
    }
}
