//! URL components: encoded one way, decoded exactly once, in this one place.
//!
//! `leptos_router` 0.8 decodes query values twice (the URL parser decodes them, then its
//! `ParamsMap` decodes them again), and in the browser it runs `decodeURI` over a link's path
//! before routing. A key with a literal `%XX` in it would then name another key. So the pages
//! never read a key, a prefix or typed text from `use_query_map`/`use_params_map`: they read the
//! raw path and query with [`use_query`] and [`use_raw_path`] and decode here.

use leptos::prelude::*;
use leptos_router::hooks::use_location;
use serde::{de::DeserializeOwned, Serialize};

use crate::error::AppError;

/// Percent-encodes everything but the unreserved characters, so that `/ ? # % +` and spaces in
/// a path segment or a query value mean nothing to the URL.
pub fn encode_component(s: &str) -> String {
    encode_keeping(s, b"")
}

/// Like [`encode_component`] but keeps `/`: for a same-site path carried in a query value (`next=`), so
/// that it stays readable.
pub fn encode_path(s: &str) -> String {
    encode_keeping(s, b"/")
}

fn encode_keeping(s: &str, keep: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.extend([
                '%',
                HEX[usize::from(b >> 4)] as char,
                HEX[usize::from(b & 15)] as char,
            ]);
        }
    }
    out
}

/// Decodes `%XX` escapes once. An escape that is not one (`100% done`) stays as it is, and bytes
/// that are not UTF-8 become U+FFFD rather than an error: a URL typed by hand still opens a page.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A query string's pairs, each name and value decoded once. `+` is a space, as browsers write
/// it when they submit a GET form; Crossview's own links write `+` as `%2B`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a raw query string (with or without its leading `?`).
    pub fn parse(raw: &str) -> Self {
        let raw = raw.strip_prefix('?').unwrap_or(raw);
        let pairs = raw
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let form = |s: &str| decode(&s.replace('+', " "));
                (form(name), form(value))
            })
            .collect();
        Query(pairs)
    }

    /// The last value given for `name` (a later `name=` overrides an earlier one).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `name`, in order.
    pub fn get_all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The current page's query, decoded once.
pub fn use_query() -> Memo<Query> {
    let search = use_location().search;
    Memo::new(move |_| Query::parse(&search.read()))
}

/// A resource loaded by the page's numeric `:id` (a database id, so digits only: reading it
/// from the params map is safe); any other `:id` is `NotFound`, like a missing row.
pub fn load_by_id<T, F, Fut>(load: F) -> Resource<Result<T, AppError>>
where
    T: Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(i64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + Send + 'static,
{
    let params = leptos_router::hooks::use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    };
    let load = std::sync::Arc::new(load);
    Resource::new(id, move |id| {
        let load = load.clone();
        async move {
            match id {
                Some(id) => load(id).await,
                None => Err(AppError::NotFound),
            }
        }
    })
}

/// The current page's path as the URL carries it, still encoded.
pub fn use_raw_path() -> Memo<String> {
    use_location().pathname
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_decode_is_the_identity() {
        for s in [
            "",
            "a b",
            "50%25 off",
            "%",
            "%zz",
            "a+b=c&d",
            "ü/日本",
            "<script>",
            "#?",
        ] {
            assert_eq!(decode(&encode_component(s)), s);
            assert_eq!(decode(&encode_path(s)), s);
        }
        assert_eq!(encode_component("a/b c+%"), "a%2Fb%20c%2B%25");
        assert_eq!(encode_path("/c/1/b?x=y"), "/c/1/b%3Fx%3Dy");
    }

    #[test]
    fn decoding_happens_once_and_forgives_what_is_not_an_escape() {
        assert_eq!(decode("50%2525%20off"), "50%25 off");
        assert_eq!(decode("100% done"), "100% done");
        assert_eq!(decode("%"), "%");
        assert_eq!(decode("%4"), "%4");
        assert_eq!(decode("%FF"), "\u{FFFD}");
    }

    #[test]
    fn query_values_are_decoded_once_with_form_spaces() {
        let q = Query::parse("?prefix=50%2525%20off%2F&filter=a+b&t=x%2By&t=z&flag&=v");
        assert_eq!(q.get("prefix"), Some("50%25 off/"));
        assert_eq!(q.get("filter"), Some("a b"));
        assert_eq!(q.get_all("t"), ["x+y", "z"]);
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(q.get("missing"), None);
        assert_eq!(Query::parse("a=1&a=2").get("a"), Some("2"));
    }
}
