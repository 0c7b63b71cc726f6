//! Search a bucket, or a folder of it and everything below: a pattern on the key (contains,
//! glob or regular expression) and filters on size, date and storage class. The server walks
//! ListObjectsV2 without a delimiter from the folder down, on one fresh assumption per walk
//! request, and streams what it finds as it goes (`GET /api/search/<connection>/<bucket>`, one
//! JSON line a listing page); each request stops at a bound and says where, so the next one
//! (or a reload: the position is in the page's URL) continues from there.

#[cfg(feature = "ssr")]
mod matcher;
mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;
#[cfg(feature = "hydrate")]
mod stream;

pub use pages::SearchPage;
use serde::{Deserialize, Serialize};

use crate::url::{encode_component, Query};

/// How the pattern reads a key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// The key contains the text, in any case.
    #[default]
    Contains,
    /// A glob on the key's last folders and name: `*` and `?` stay within one name, `**`
    /// crosses folders; a pattern ending in `/` names folders (`2024-??/`).
    Glob,
    /// A regular expression anywhere in the key (Rust's `regex`: linear time, no look-around).
    Regex,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Contains, Kind::Glob, Kind::Regex];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Contains => "contains",
            Kind::Glob => "glob",
            Kind::Regex => "regex",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Contains => "contains",
            Kind::Glob => "matches the glob",
            Kind::Regex => "matches the regular expression",
        }
    }

    fn parse(name: &str) -> Kind {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .unwrap_or_default()
    }
}

/// The storage classes S3 lists, for the filter.
pub const STORAGE_CLASSES: [&str; 8] = [
    "STANDARD",
    "INTELLIGENT_TIERING",
    "STANDARD_IA",
    "ONEZONE_IA",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
    "REDUCED_REDUNDANCY",
];

/// One search as its URL says it. Sizes and dates stay as typed until the server reads them,
/// so a page shows back exactly what was asked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Search {
    /// The folder searched (everything below it): `""` is the whole bucket.
    pub within: String,
    pub pattern: String,
    pub kind: Kind,
    /// At least / at most this size: a number of bytes, or with a unit (`10 MiB`, `2G`).
    pub min_size: String,
    pub max_size: String,
    /// Modified on or after / on or before this day (`YYYY-MM-DD`, UTC).
    pub from: String,
    pub to: String,
    /// Only this storage class (empty: any).
    pub class: String,
    /// Continue after this key (the walk's position when the last request stopped).
    pub after: String,
}

impl Search {
    pub fn from_query(query: &Query) -> Search {
        let text = |name: &str| query.get(name).unwrap_or_default().to_owned();
        Search {
            within: text("within"),
            pattern: text("q"),
            kind: Kind::parse(query.get("kind").unwrap_or_default()),
            min_size: text("min"),
            max_size: text("max"),
            from: text("from"),
            to: text("to"),
            class: text("class"),
            after: text("after"),
        }
    }

    /// The query string (without `?`) that says this search; empty fields are left out.
    pub fn to_query(&self) -> String {
        let kind = match self.kind {
            Kind::Contains => "",
            other => other.name(),
        };
        [
            ("within", self.within.as_str()),
            ("q", &self.pattern),
            ("kind", kind),
            ("min", &self.min_size),
            ("max", &self.max_size),
            ("from", &self.from),
            ("to", &self.to),
            ("class", &self.class),
            ("after", &self.after),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(n, v)| format!("{n}={}", encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
    }

    /// Whether anything is asked at all (a search with no pattern and no filter lists
    /// everything, which is what the folder pages are for).
    pub fn asks(&self) -> bool {
        [
            &self.pattern,
            &self.min_size,
            &self.max_size,
            &self.from,
            &self.to,
            &self.class,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }
}

/// The search page of `within` in `bucket`.
pub fn search_href(connection: i64, bucket: &str, search: &Search) -> String {
    let base = format!("/search/{connection}/{}", encode_component(bucket));
    match search.to_query() {
        q if q.is_empty() => base,
        q => format!("{base}?{q}"),
    }
}

/// One key found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    pub key: String,
    pub size: i64,
    /// RFC 3339, UTC.
    pub modified: Option<String>,
    pub class: Option<String>,
}

/// Why a walk request stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// Every key under the folder was searched.
    Complete,
    /// `SEARCH_MAX_KEYS` keys were scanned in this request.
    Keys,
    /// [`MAX_HITS`] keys were found in this request.
    Hits,
    /// The request's time was nearly up.
    Time,
}

/// Keys found per walk request at most: a page that shows more is not read anyway.
pub const MAX_HITS: usize = 1000;

/// One line of a walk request's answer (JSON lines, one per listing page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Line {
    /// A listing page searched: its matches, the keys scanned so far in this request, and
    /// the last key scanned.
    Page {
        hits: Vec<Hit>,
        scanned: u64,
        position: String,
    },
    /// The request stopped: `position` is where the next one continues (none when complete).
    End {
        scanned: u64,
        position: Option<String>,
        stop: Stop,
    },
    /// S3 failed mid-walk; what was found stays on the page, and `position` is where to retry.
    Failed {
        message: String,
        position: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_round_trips_through_its_url() {
        let search = Search {
            within: "logs/2024 é+%/".into(),
            pattern: "*.parquet".into(),
            kind: Kind::Glob,
            min_size: "10 MiB".into(),
            from: "2024-01-01".into(),
            class: "GLACIER".into(),
            after: "logs/2024 é+%/a&b=c".into(),
            ..Search::default()
        };
        let href = search_href(7, "cv-work", &search);
        let (path, query) = href.split_once('?').unwrap();
        assert_eq!(path, "/search/7/cv-work");
        assert_eq!(Search::from_query(&Query::parse(query)), search);
        assert!(search.asks());
        assert!(!Search::default().asks());
        assert_eq!(search_href(7, "b", &Search::default()), "/search/7/b");
    }
}
