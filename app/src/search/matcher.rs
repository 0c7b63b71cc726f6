//! A search, read: the pattern (contains, glob or regular expression, compiled once with bounded
//! size) and the filters on size, date and storage class, refused with the reason when they do
//! not read, before AWS is asked.

use aws_sdk_s3::types::Object;
use regex::{Regex, RegexBuilder};

use super::{Kind, Search, STORAGE_CLASSES};
use crate::error::AppError;

/// The longest pattern taken, and the memory its compiled form may use.
const MAX_PATTERN: usize = 1024;
const PATTERN_MEMORY: usize = 1 << 20;

/// A search, read: what a key must be to be found.
#[derive(Debug)]
pub struct Matcher {
    pattern: Option<Regex>,
    min_size: Option<i64>,
    max_size: Option<i64>,
    /// Unix seconds, both ends included.
    from: Option<i64>,
    to: Option<i64>,
    class: Option<String>,
}

impl Matcher {
    pub fn new(search: &Search) -> Result<Matcher, AppError> {
        let pattern = &search.pattern;
        if pattern.len() > MAX_PATTERN {
            return Err(AppError::Request(format!(
                "the pattern is too long: at most {MAX_PATTERN} characters"
            )));
        }
        let pattern = match (search.kind, pattern.is_empty()) {
            (_, true) => None,
            (Kind::Contains, false) => Some(compile(&regex::escape(pattern), true)?),
            (Kind::Glob, false) => Some(compile(&glob(pattern), false)?),
            (Kind::Regex, false) => Some(compile(pattern, false)?),
        };
        let class = search.class.trim();
        if !class.is_empty() && !STORAGE_CLASSES.contains(&class) {
            return Err(AppError::Request(format!(
                "storage class: choose one of {}",
                STORAGE_CLASSES.join(", ")
            )));
        }
        let (min_size, max_size) = (
            size("at least", &search.min_size)?,
            size("at most", &search.max_size)?,
        );
        let (from, to) = (
            day("from", &search.from, false)?,
            day("to", &search.to, true)?,
        );
        if matches!((min_size, max_size), (Some(a), Some(b)) if a > b)
            || matches!((from, to), (Some(a), Some(b)) if a > b)
        {
            return Err(AppError::Request(
                "a range ends before it starts: swap its two ends".into(),
            ));
        }
        Ok(Matcher {
            pattern,
            min_size,
            max_size,
            from,
            to,
            class: (!class.is_empty()).then(|| class.to_owned()),
        })
    }

    pub fn matches(&self, object: &Object) -> bool {
        let Some(key) = object.key() else {
            return false;
        };
        let size = object.size().unwrap_or_default();
        let modified = object.last_modified().map(|t| t.secs());
        let class = object.storage_class().map_or("STANDARD", |c| c.as_str());
        let within = |value: Option<i64>, low: Option<i64>, high: Option<i64>| match value {
            Some(v) => low.is_none_or(|l| v >= l) && high.is_none_or(|h| v <= h),
            None => low.is_none() && high.is_none(),
        };
        self.pattern.as_ref().is_none_or(|p| p.is_match(key))
            && within(Some(size), self.min_size, self.max_size)
            && within(modified, self.from, self.to)
            && self.class.as_deref().is_none_or(|c| c == class)
    }
}

fn compile(pattern: &str, any_case: bool) -> Result<Regex, AppError> {
    RegexBuilder::new(pattern)
        .case_insensitive(any_case)
        .size_limit(PATTERN_MEMORY)
        .build()
        .map_err(|err| match err {
            regex::Error::CompiledTooBig(_) => {
                AppError::Request("the pattern is too complex: make it simpler".into())
            }
            // The message points at the place in the pattern; its first line says what is wrong.
            other => AppError::Request(format!(
                "the regular expression does not read: {}",
                other.to_string().lines().last().unwrap_or_default().trim()
            )),
        })
}

/// A glob as a regular expression on the key: it matches the key's last names, whole (from a
/// `/` or the start); `*` and `?` stay within one name, `**` crosses folders; a glob ending in
/// `/` names folders, so everything inside them is found.
fn glob(glob: &str) -> String {
    let glob = glob.trim_start_matches('/');
    let mut out = String::from("(?:^|/)");
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                out.push_str(".*");
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    if !glob.ends_with('/') {
        out.push('$');
    }
    out
}

/// A size as typed: bytes, or a number with a unit of 1,024 (`KiB`, `MB`, `g`: all binary, as
/// the pages show sizes).
fn size(which: &str, text: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || {
        AppError::Request(format!(
            "size {which}: write a number of bytes, or with a unit such as 10 MiB or 2 GiB"
        ))
    };
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| bad())?;
    let unit = unit.trim().to_ascii_lowercase();
    let shift = match unit.trim_end_matches('b').trim_end_matches('i') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return Err(bad()),
    };
    let bytes = number * (1u64 << shift) as f64;
    match bytes.is_finite() && bytes <= i64::MAX as f64 {
        true => Ok(Some(bytes.round() as i64)),
        false => Err(bad()),
    }
}

/// A day as typed (`YYYY-MM-DD`, UTC): its first second, or with `end` its last.
fn day(which: &str, text: &str, end: bool) -> Result<Option<i64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || {
        AppError::Request(format!(
            "modified {which}: write a day as YYYY-MM-DD, such as 2024-03-31"
        ))
    };
    let mut parts = text.splitn(3, '-');
    let mut number = || parts.next().and_then(|p| p.parse::<i64>().ok());
    let (year, month, day) = (number(), number(), number());
    let (Some(year), Some(month), Some(day)) = (year, month, day) else {
        return Err(bad());
    };
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .ok_or_else(bad)?;
    let date = i32::try_from(year)
        .ok()
        .zip(u8::try_from(day).ok())
        .and_then(|(y, d)| time::Date::from_calendar_date(y, month, d).ok())
        .ok_or_else(bad)?;
    let first = date.midnight().assume_utc().unix_timestamp();
    Ok(Some(if end { first + 86_399 } else { first }))
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::{primitives::DateTime, types::ObjectStorageClass};

    use super::*;

    fn object(key: &str, size: i64, secs: i64, class: &str) -> Object {
        Object::builder()
            .key(key)
            .size(size)
            .last_modified(DateTime::from_secs(secs))
            .storage_class(ObjectStorageClass::from(class))
            .build()
    }

    fn finds(search: Search, key: &str) -> bool {
        Matcher::new(&search)
            .unwrap()
            .matches(&object(key, 100, 1_700_000_000, "STANDARD"))
    }

    fn pattern(kind: Kind, pattern: &str) -> Search {
        Search {
            pattern: pattern.into(),
            kind,
            ..Search::default()
        }
    }

    #[test]
    fn contains_ignores_case_and_takes_any_character_as_itself() {
        assert!(finds(
            pattern(Kind::Contains, "REPORT"),
            "a/b/report-2024.csv"
        ));
        assert!(finds(pattern(Kind::Contains, "a+b (1).*"), "x/a+b (1).*z"));
        assert!(!finds(pattern(Kind::Contains, "a+b"), "x/aab"));
        assert!(finds(
            pattern(Kind::Contains, "写真 🗼"),
            "旅行/写真 🗼.jpg"
        ));
        assert!(finds(
            pattern(Kind::Contains, "<script>"),
            "<script>alert(1)</script>"
        ));
    }

    #[test]
    fn globs_match_names_and_folders() {
        let g = |p: &str, key: &str| finds(pattern(Kind::Glob, p), key);
        assert!(g("*.parquet", "data/2024/part-1.parquet"));
        assert!(g("*.parquet", "part-1.parquet"));
        assert!(!g("*.parquet", "data/x.parquet.tmp"));
        assert!(!g("*.parquet", "data.parquet/readme"));
        assert!(g("2024-??/", "logs/2024-01/app.log"));
        assert!(!g("2024-??/", "logs/2024-1/app.log"));
        assert!(g("logs/**/*.log", "x/logs/2024/01/app.log"));
        assert!(!g("logs/*.log", "logs/2024/app.log"));
        assert!(g("a+b?.txt", "a+b1.txt"));
        assert!(!g("a+b?.txt", "aab1.txt"));
    }

    #[test]
    fn regular_expressions_are_checked_and_bounded() {
        assert!(finds(
            pattern(Kind::Regex, r"^img/\d{4}\.png$"),
            "img/0042.png"
        ));
        assert!(!finds(
            pattern(Kind::Regex, r"^img/\d{4}\.png$"),
            "img/042.png"
        ));
        let bad = Matcher::new(&pattern(Kind::Regex, "(unclosed")).unwrap_err();
        assert!(
            matches!(&bad, AppError::Request(m) if m.starts_with("the regular expression does not read")),
            "{bad}"
        );
        let huge = Matcher::new(&pattern(Kind::Regex, r"\w{1000}\w{1000}\w{1000}")).unwrap_err();
        assert!(
            matches!(&huge, AppError::Request(m) if m.contains("too complex")),
            "{huge}"
        );
        let long = Matcher::new(&pattern(Kind::Contains, &"a".repeat(1025))).unwrap_err();
        assert!(
            matches!(&long, AppError::Request(m) if m.contains("too long")),
            "{long}"
        );
    }

    #[test]
    fn sizes_dates_and_classes_filter() {
        let search = Search {
            min_size: "1 KiB".into(),
            max_size: "2mb".into(),
            from: "2024-03-01".into(),
            to: "2024-03-31".into(),
            class: "GLACIER".into(),
            ..Search::default()
        };
        let m = Matcher::new(&search).unwrap();
        let march = 1_711_843_200; // 2024-03-31 00:00 UTC
        assert!(m.matches(&object("a", 1024, march + 86_399, "GLACIER")));
        assert!(m.matches(&object("a", 2 << 20, 1_709_251_200, "GLACIER")));
        assert!(!m.matches(&object("a", 1023, march, "GLACIER")));
        assert!(!m.matches(&object("a", (2 << 20) + 1, march, "GLACIER")));
        assert!(!m.matches(&object("a", 2048, march + 86_400, "GLACIER")));
        assert!(!m.matches(&object("a", 2048, 1_709_251_199, "GLACIER")));
        assert!(!m.matches(&object("a", 2048, march, "STANDARD")));
        for (field, value, says) in [
            ("min", "ten", "size at least"),
            ("max", "5 parsecs", "size at most"),
            ("from", "2024-02-30", "modified from"),
            ("to", "31/03/2024", "modified to"),
            ("class", "COLD", "storage class"),
        ] {
            let mut s = Search::default();
            match field {
                "min" => s.min_size = value.into(),
                "max" => s.max_size = value.into(),
                "from" => s.from = value.into(),
                "to" => s.to = value.into(),
                _ => s.class = value.into(),
            }
            let err = Matcher::new(&s).unwrap_err();
            assert!(
                matches!(&err, AppError::Request(m) if m.starts_with(says)),
                "{value}: {err}"
            );
        }
        let swapped = Search {
            min_size: "2 MiB".into(),
            max_size: "1 MiB".into(),
            ..Search::default()
        };
        assert!(Matcher::new(&swapped).is_err());
    }
}
