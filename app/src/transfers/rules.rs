//! What a deployment accepts as uploads (`config::Uploads`), and how large files are split.

use crate::{config::Uploads, error::AppError, format::human_size};

/// S3's smallest part (all but the last) and its most parts per upload.
const MIN_PART: u64 = 5 << 20;
const MAX_PARTS: u64 = 10_000;
/// Parts of this size unless the file is so large that 10,000 would not hold it.
const PREFERRED_PART: u64 = 8 << 20;
/// S3's largest object.
pub const MAX_OBJECT: u64 = 5 << 40;

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
                    _ if rule.starts_with('.') => name.ends_with(rule.as_str()),
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
        assert_eq!(UploadRules(&strict).check("REPORT.CSV", "", 1), Ok(()));
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
