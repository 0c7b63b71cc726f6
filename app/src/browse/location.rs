//! Where the user is, as a URL: `/c/<connection>/<bucket>/<prefix…>`.
//!
//! Every key must round-trip exactly, and browsers rewrite some paths before we see them: `.`
//! and `..` segments are resolved (even percent-encoded) and empty segments are fragile. A
//! prefix that path segments can carry faithfully goes in the path, one encoded segment per
//! folder; any other goes in `?prefix=`. Object details add `?object=<key>`.

/// Percent-encodes everything but the unreserved characters, so that `/ ? # % +` and spaces in
/// a segment or query value mean nothing to the URL.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Whether every folder in `prefix` survives as a path segment.
fn path_safe(prefix: &str) -> bool {
    prefix.strip_suffix('/').is_some_and(|folders| {
        folders
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
    })
}

pub fn buckets_href(connection: i64) -> String {
    format!("/c/{connection}")
}

/// The folder's URL (the bucket's root, without a trailing slash, for an empty prefix).
pub fn folder_href(connection: i64, bucket: &str, prefix: &str) -> String {
    let root = format!("/c/{connection}/{}", encode(bucket));
    if prefix.is_empty() {
        root
    } else if path_safe(prefix) {
        let segments: Vec<String> = prefix
            .trim_end_matches('/')
            .split('/')
            .map(encode)
            .collect();
        format!("{root}/{}/", segments.join("/"))
    } else {
        format!("{root}?prefix={}", encode(prefix))
    }
}

/// `href` with `name=value` appended to its query.
pub fn with_query(href: &str, name: &str, value: &str) -> String {
    let sep = if href.contains('?') { '&' } else { '?' };
    format!("{href}{sep}{name}={}", encode(value))
}

/// The details page of `key`, shown within its folder.
pub fn object_href(connection: i64, bucket: &str, key: &str) -> String {
    with_query(
        &folder_href(connection, bucket, folder_of(key)),
        "object",
        key,
    )
}

/// The prefix a page shows: `?prefix=` if given, else the (already decoded) path after the
/// bucket, which always names a folder.
pub fn prefix_from(path: Option<&str>, query: Option<&str>) -> String {
    if let Some(prefix) = query {
        return prefix.to_owned();
    }
    match path.map(|p| p.trim_start_matches('/')) {
        None | Some("") => String::new(),
        Some(p) if p.ends_with('/') => p.to_owned(),
        Some(p) => format!("{p}/"),
    }
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

/// Sizes in binary units, as file managers show them.
pub fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the router hands back for a path: each segment percent-decoded once.
    fn decode_path(href: &str) -> (Option<String>, Option<String>) {
        let (path, query) = href.split_once('?').unwrap_or((href, ""));
        let rest = path.splitn(5, '/').nth(4).unwrap_or("");
        let decode = |s: &str| {
            let bytes = s.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        };
        let prefix = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("prefix="))
            .map(decode);
        (Some(decode(rest)), prefix)
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
            let (path, query) = decode_path(&href);
            assert_eq!(
                prefix_from(path.as_deref(), query.as_deref()),
                prefix,
                "{href}"
            );
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

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
