//! What a deployment accepts as uploads (`config::Uploads`), and how large files are split.

use crate::{config::Uploads, error::AppError, format::human_size};

/// S3's smallest part (all but the last) and its most parts per upload.
const MIN_PART: u64 = 5 << 20;
const MAX_PARTS: u64 = 10_000;
/// Parts of this size unless the file is so large that 10,000 would not hold it.
const PREFERRED_PART: u64 = 8 << 20;
/// S3's largest object.
pub const MAX_OBJECT: u64 = 5 << 40;

/// The content types browsers report for files with an extension (an extension rule admits
/// those only). An extension not listed here admits nothing: name its content type instead.
fn types_of(extension: &str) -> Option<&'static [&'static str]> {
    Some(match extension {
        ".csv" => &[
            "text/csv",
            "application/csv",
            "application/vnd.ms-excel",
            "text/plain",
        ],
        ".tsv" => &["text/tab-separated-values", "text/plain"],
        ".txt" | ".log" => &["text/plain"],
        ".md" => &["text/markdown", "text/plain"],
        ".json" => &["application/json"],
        ".xml" => &["application/xml", "text/xml"],
        ".pdf" => &["application/pdf"],
        ".png" => &["image/png"],
        ".jpg" | ".jpeg" => &["image/jpeg"],
        ".gif" => &["image/gif"],
        ".webp" => &["image/webp"],
        ".zip" => &["application/zip", "application/x-zip-compressed"],
        ".gz" => &["application/gzip", "application/x-gzip"],
        ".parquet" => &["application/vnd.apache.parquet", "application/octet-stream"],
        ".mp4" => &["video/mp4"],
        ".mp3" => &["audio/mpeg"],
        ".xlsx" => &["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
        ".docx" => &["application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
        _ => return None,
    })
}

/// The deployment's upload settings, as the rules every upload is held to.
pub struct UploadRules<'a>(pub &'a Uploads);

impl UploadRules<'_> {
    /// Refuses a file the deployment does not accept, before anything is signed.
    pub fn check(&self, name: &str, content_type: &str, size: u64) -> Result<(), AppError> {
        let max = self.0.max_bytes.unwrap_or(MAX_OBJECT).min(MAX_OBJECT);
        if size > max {
            return Err(AppError::UploadTooLarge {
                max: human_size(max),
            });
        }
        let name = name.to_lowercase();
        let content_type = content_type.to_lowercase();
        let accepted = self.0.allowed.is_empty()
            || self
                .0
                .allowed
                .iter()
                .any(|rule| match rule.strip_suffix("/*") {
                    // An extension admits only its own content types: `evil.csv` sent as
                    // text/html would be served as a page from the bucket.
                    _ if rule.starts_with('.') => {
                        name.ends_with(rule.as_str())
                            && types_of(rule)
                                .is_some_and(|types| types.contains(&content_type.as_str()))
                    }
                    Some(family) => content_type.split('/').next() == Some(family),
                    None => content_type == *rule,
                });
        match accepted {
            true => Ok(()),
            false => Err(AppError::UploadTypeRefused {
                allowed: self.0.allowed.join(", "),
            }),
        }
    }

    /// The part size for a multipart upload of `size` bytes: 8 MiB, or larger (in whole MiB)
    /// when 10,000 parts of 8 MiB would not hold the file.
    pub fn part_size(size: u64) -> u64 {
        let needed = size.div_ceil(MAX_PARTS).div_ceil(1 << 20) << 20;
        needed.max(PREFERRED_PART).max(MIN_PART)
    }

    /// The part size and the number of parts of a multipart upload of `size` bytes.
    pub fn parts(size: u64) -> (u64, u32) {
        let part_size = Self::part_size(size);
        (part_size, size.div_ceil(part_size).max(1) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(max_mib: Option<u64>, allowed: &[&str]) -> Uploads {
        Uploads {
            multipart_threshold: 16 << 20,
            parallel_parts: 4,
            max_bytes: max_mib.map(|m| m << 20),
            allowed: allowed.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn uploads_are_refused_by_size_type_or_extension_with_the_rule() {
        let open = rules(None, &[]);
        assert_eq!(
            UploadRules(&open).check("x.bin", "application/octet-stream", 6 << 40),
            Err(AppError::UploadTooLarge {
                max: "5.0 TiB".into()
            })
        );
        assert_eq!(UploadRules(&open).check("x.bin", "", 5 << 30), Ok(()));
        let strict = rules(Some(10), &["image/*", "application/pdf", ".csv"]);
        assert_eq!(UploadRules(&strict).check("a.PNG", "image/png", 1), Ok(()));
        assert_eq!(
            UploadRules(&strict).check("a.pdf", "application/pdf", 1),
            Ok(())
        );
        assert_eq!(
            UploadRules(&strict).check("REPORT.CSV", "text/csv", 1),
            Ok(())
        );
        // An extension admits its own content types only.
        for (name, content_type) in [
            ("evil.csv", "text/html"),
            ("evil.csv", "application/javascript"),
            ("unknown.csv", "application/octet-stream"),
        ] {
            assert!(
                UploadRules(&strict).check(name, content_type, 1).is_err(),
                "{name} as {content_type}"
            );
        }
        assert_eq!(
            UploadRules(&strict).check("a.png", "image/png", 11 << 20),
            Err(AppError::UploadTooLarge {
                max: "10.0 MiB".into()
            })
        );
        assert_eq!(
            UploadRules(&strict).check("run.sh", "text/x-sh", 1),
            Err(AppError::UploadTypeRefused {
                allowed: "image/*, application/pdf, .csv".into()
            })
        );
        // `image/*` is a family, not a prefix of any text.
        assert!(UploadRules(&strict).check("x", "imagex/png", 1).is_err());
    }

    #[test]
    fn parts_fit_s3s_limits_at_any_size() {
        assert_eq!(UploadRules::part_size(40 << 20), 8 << 20);
        for size in [17 << 20, 5u64 << 30, 80 << 30, MAX_OBJECT] {
            let part = UploadRules::part_size(size);
            assert!(part >= MIN_PART && part.is_multiple_of(1 << 20));
            assert!(size.div_ceil(part) <= MAX_PARTS, "{size}: {part}");
        }
    }
}
