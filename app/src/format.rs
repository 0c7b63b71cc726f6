//! How values read on a page: sizes and times, formatted in this one place.

/// Sizes in binary units, as file managers show them: `1.5 KiB`.
pub fn human_size(bytes: u64) -> String {
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

/// `2024-05-01 12:30` from an RFC 3339 time: minutes are enough in tables.
pub fn minutes(rfc3339: &str) -> String {
    rfc3339.get(..16).unwrap_or(rfc3339).replace('T', " ")
}

/// `2024-05-01 12:30 UTC`: [`minutes`] where the page does not say the zone elsewhere.
pub fn minutes_utc(rfc3339: &str) -> String {
    minutes(rfc3339) + " UTC"
}

/// The server's times, as RFC 3339 text (UTC) for the pages.
#[cfg(feature = "ssr")]
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// S3's times (the SDK's own type), as RFC 3339 text.
#[cfg(feature = "ssr")]
pub fn rfc3339_from_aws(t: &aws_sdk_s3::primitives::DateTime) -> Option<String> {
    t.fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }

    #[test]
    fn times_are_shown_to_the_minute() {
        assert_eq!(minutes("2024-05-01T12:30:45Z"), "2024-05-01 12:30");
        assert_eq!(minutes_utc("2024-05-01T12:30:45Z"), "2024-05-01 12:30 UTC");
        assert_eq!(minutes("soon"), "soon");
    }
}
