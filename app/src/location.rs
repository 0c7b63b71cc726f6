//! Where the user is, as a URL: `/c/<connection>/<bucket>/<prefix…>`.
//!
//! Every key must round-trip exactly, and browsers rewrite some paths before we see them: `.`
//! and `..` segments are resolved (even percent-encoded) and empty segments are fragile. A
//! prefix that path segments can carry faithfully goes in the path, one encoded segment per
//! folder; any other goes in `?prefix=`. Object details add `?object=<key>`.

use crate::url::{decode, encode_component};

/// Whether every folder in `prefix` survives as a path segment. Besides `.`, `..` and empty
/// segments (which browsers resolve or fold), a name with `%`, `\\` or a control character goes
/// in the query: the client-side router runs `decodeURI` over a link's path and the browser's
/// URL parser then reads `\\` as `/` and drops tabs and newlines, so such a segment could not
/// be told apart from another name. Everything else percent-encodes losslessly.
fn path_safe(prefix: &str) -> bool {
    prefix.strip_suffix('/').is_some_and(|folders| {
        folders.split('/').all(|s| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && !s.chars().any(|c| c == '%' || c == '\\' || c.is_control())
        })
    })
}

/// A connection's page in the admin console.
pub fn admin_connection_href(connection: i64) -> String {
    format!("/admin/connections/{connection}")
}

pub fn buckets_href(connection: i64) -> String {
    format!("/c/{connection}")
}

/// The folder's URL (the bucket's root, without a trailing slash, for an empty prefix).
pub fn folder_href(connection: i64, bucket: &str, prefix: &str) -> String {
    let root = format!("/c/{connection}/{}", encode_component(bucket));
    if prefix.is_empty() {
        root
    } else if path_safe(prefix) {
        let segments: Vec<String> = prefix
            .trim_end_matches('/')
            .split('/')
            .map(encode_component)
            .collect();
        format!("{root}/{}/", segments.join("/"))
    } else {
        format!("{root}?prefix={}", encode_component(prefix))
    }
}

/// `href` with `name=value` appended to its query.
pub fn with_query(href: &str, name: &str, value: &str) -> String {
    let sep = if href.contains('?') { '&' } else { '?' };
    format!("{href}{sep}{name}={}", encode_component(value))
}

/// The details page of `key`, shown within its folder.
pub fn object_href(connection: i64, bucket: &str, key: &str) -> String {
    with_query(
        &folder_href(connection, bucket, folder_of(key)),
        "object",
        key,
    )
}

/// A browse page's place as its URL names it: `/c/<connection>/<bucket>/<folders…>/` (the path
/// still encoded, as the browser sends it) and the query's `prefix` (already decoded), which
/// wins over the path. Each part is decoded exactly once, here.
pub fn place_from(raw_path: &str, query_prefix: Option<&str>) -> Option<(i64, String, String)> {
    let mut parts = raw_path.splitn(5, '/');
    let (Some(""), Some("c"), Some(connection), Some(bucket)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let connection = connection.parse().ok()?;
    let bucket = decode(bucket);
    if bucket.is_empty() {
        return None;
    }
    let prefix = match (query_prefix, parts.next().map(decode)) {
        (Some(prefix), _) => prefix.to_owned(),
        (None, None) => String::new(),
        (None, Some(p)) if p.is_empty() || p.ends_with('/') => p,
        (None, Some(p)) => format!("{p}/"),
    };
    Some((connection, bucket, prefix))
}

/// The folder that holds `key` (`a/b/` for `a/b/c.txt`; `a/b/` for the folder `a/b/c/`).
pub fn folder_of(key: &str) -> &str {
    let trimmed = key.strip_suffix('/').unwrap_or(key);
    match trimmed.rfind('/') {
        Some(i) => &key[..=i],
        None => "",
    }
}

/// The last part of a key or prefix relative to the folder it is listed in.
pub fn name_in<'a>(key: &'a str, folder: &str) -> &'a str {
    key.strip_prefix(folder).unwrap_or(key)
}

/// Each ancestor folder of `prefix` with its own name, root first: `a/b/` → `[("a", "a/"), ("b", "a/b/")]`.
pub fn breadcrumbs(prefix: &str) -> Vec<(String, String)> {
    let mut crumbs = Vec::new();
    let mut end = 0;
    while let Some(i) = prefix[end..].find('/') {
        let folder = &prefix[..end + i + 1];
        crumbs.push((prefix[end..end + i].to_owned(), folder.to_owned()));
        end += i + 1;
    }
    crumbs
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    use crate::url::Query;

    /// What a page reads back from `href`: its place and its `?object=`.
    fn read_back(href: &str) -> (Option<(i64, String, String)>, Option<String>) {
        let (path, query) = href.split_once('?').unwrap_or((href, ""));
        let query = Query::parse(query);
        let place = place_from(path, query.get("prefix"));
        (place, query.get("object").map(str::to_owned))
    }

    /// What the browser makes of a link that the client-side router follows: leptos_router 0.8
    /// runs `decodeURI` over its path, and the URL parser then reads the result (dropping tabs
    /// and newlines, reading `\` as `/`, resolving dot segments, escaping what a path cannot
    /// hold). The query goes through as it is.
    fn after_client_navigation(href: &str) -> String {
        let (path, query) = href
            .split_once('?')
            .map_or((href, None), |(p, q)| (p, Some(q)));
        let decoded = decode_uri(path).unwrap_or_else(|| path.to_owned());
        let cleaned: String = decoded
            .chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .map(|c| if c == '\\' { '/' } else { c })
            .collect();
        let parts: Vec<&str> = cleaned.split('/').skip(1).collect();
        let mut segments: Vec<String> = Vec::new();
        for (i, segment) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            match segment.to_ascii_lowercase().as_str() {
                "." | "%2e" => {}
                ".." | ".%2e" | "%2e." | "%2e%2e" => {
                    segments.pop();
                }
                _ => {
                    segments.push(segment.bytes().map(path_byte).collect());
                    continue;
                }
            }
            if last {
                segments.push(String::new());
            }
        }
        let path = format!("/{}", segments.join("/"));
        match query {
            Some(q) => format!("{path}?{q}"),
            None => path,
        }
    }

    /// The URL parser's path percent-encode_component set, byte by byte.
    fn path_byte(b: u8) -> String {
        match b {
            0..=0x20 | 0x7f.. | b'"' | b'#' | b'<' | b'>' | b'?' | b'`' | b'{' | b'}' => {
                format!("%{b:02X}")
            }
            _ => (b as char).to_string(),
        }
    }

    /// JavaScript's `decodeURI`: every escape but those of `;/?:@&=+$,#`; `None` where it throws.
    fn decode_uri(s: &str) -> Option<String> {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'%' {
                out.push(bytes[i]);
                i += 1;
                continue;
            }
            let byte = u8::from_str_radix(s.get(i + 1..i + 3)?, 16).ok()?;
            if byte.is_ascii() && b";/?:@&=+$,#".contains(&byte) {
                out.extend_from_slice(&bytes[i..i + 3]);
            } else {
                out.push(byte);
            }
            i += 3;
        }
        String::from_utf8(out).ok()
    }

    /// Keys made of the pieces that URLs, routers and browsers treat specially.
    fn odd_key() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "%", "%25", "%2F", "%20", "%41", "%2e", "+", " ", "#", "?", "&", "=", "ü", "日本",
            "..", ".", "/", "a", "B", "\\", "<", ">", "\"", "'", "\t", "~", "|", ";",
        ]);
        prop::collection::vec(pieces, 1..10).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn every_key_and_folder_comes_back_from_its_url(key in odd_key()) {
            let folder = if key.ends_with('/') { key.clone() } else { format!("{key}/") };
            let object = object_href(7, "my-bucket", &key);
            let folder_url = folder_href(7, "my-bucket", &folder);
            let expected = (7, "my-bucket".to_owned(), folder_of(&key).to_owned());
            for (href, how) in [(object.clone(), "loaded"), (after_client_navigation(&object), "followed")] {
                let (place, seen) = read_back(&href);
                prop_assert_eq!(place, Some(expected.clone()), "{} {}", how, object);
                prop_assert_eq!(seen.as_deref(), Some(key.as_str()), "{} {}", how, object);
            }
            for href in [folder_url.clone(), after_client_navigation(&folder_url)] {
                let (place, _) = read_back(&href);
                prop_assert_eq!(place.map(|p| p.2), Some(folder.clone()), "{}", folder_url);
            }
        }
    }

    #[test]
    fn a_literal_percent_escape_is_not_decoded_twice() {
        let key = "odd/50%25 off/percent%20literal.txt";
        let href = object_href(7, "b", key);
        assert_eq!(
            href,
            "/c/7/b?prefix=odd%2F50%2525%20off%2F&object=odd%2F50%2525%20off%2Fpercent%2520literal.txt"
        );
        assert_eq!(read_back(&href).1.as_deref(), Some(key));
        let plain = object_href(7, "b", "odd/percent%20literal.txt");
        assert_eq!(plain, "/c/7/b/odd/?object=odd%2Fpercent%2520literal.txt");
        for href in [&plain, &after_client_navigation(&plain)] {
            assert_eq!(
                read_back(href).1.as_deref(),
                Some("odd/percent%20literal.txt")
            );
        }
    }

    #[test]
    fn odd_prefixes_round_trip_exactly() {
        for prefix in [
            "",
            "a/",
            "a b/ü/日本/",
            "100% done/a+b=c/",
            "what?/#hash/",
            "<script>alert(1)</script>/",
            "../",
            "a/./b/",
            "a//b/",
            "/",
            "trailing space /",
        ] {
            let href = folder_href(7, "my-bucket", prefix);
            let (place, _) = read_back(&href);
            assert_eq!(place.map(|p| p.2).as_deref(), Some(prefix), "{href}");
            assert!(
                !href.contains("/../") && !href.contains("/./") && !href[3..].contains("//"),
                "{href}"
            );
        }
    }

    #[test]
    fn plain_prefixes_stay_readable_paths() {
        assert_eq!(folder_href(7, "b", "2026/05/"), "/c/7/b/2026/05/");
        assert_eq!(folder_href(7, "b", "a b/"), "/c/7/b/a%20b/");
        assert_eq!(folder_href(7, "b", "../"), "/c/7/b?prefix=..%2F");
        assert_eq!(folder_href(7, "b", ""), "/c/7/b");
        assert_eq!(
            object_href(7, "b", "a/c?d.txt"),
            "/c/7/b/a/?object=a%2Fc%3Fd.txt"
        );
    }

    #[test]
    fn folders_names_and_crumbs() {
        assert_eq!(folder_of("a/b/c.txt"), "a/b/");
        assert_eq!(folder_of("a/b/"), "a/");
        assert_eq!(folder_of("c.txt"), "");
        assert_eq!(name_in("a/b/c.txt", "a/b/"), "c.txt");
        assert_eq!(
            breadcrumbs("a/b c/"),
            vec![("a".into(), "a/".into()), ("b c".into(), "a/b c/".into())]
        );
        assert_eq!(
            breadcrumbs("a//"),
            vec![("a".into(), "a/".into()), ("".into(), "a//".into())]
        );
    }
}
