//! S3 failures, classified by what the user can do about them.
//!
//! An `AccessDenied` from S3 means the role lacks a permission (the trust already worked: the
//! credentials exist), so it is reported with the action and resource that were refused. HEAD
//! requests have no error body, so their status code stands in for the missing error code.

use aws_sdk_s3::{
    config::http::HttpResponse,
    error::{ProvideErrorMetadata, SdkError},
};

use super::failure;
use crate::{
    error::{AppError, AwsProblem},
    iam::Action,
};

/// Classifies a failed S3 call made for `action` (`Action::ListBucket`) on `resource` (its ARN).
pub fn s3_failure<E>(err: SdkError<E, HttpResponse>, action: Action, resource: &str) -> AppError
where
    E: ProvideErrorMetadata + std::fmt::Debug,
{
    if let SdkError::ServiceError(service) = &err {
        let status = service.raw().status().as_u16();
        let code = service.err().code();
        let message = service.err().message().unwrap_or_default();
        let denied = || AppError::Denied {
            action,
            resource: resource.to_owned(),
        };
        match (code, status) {
            // S3 reports a refused KMS key as AccessDenied; only the message names KMS.
            (Some("AccessDenied"), _) if message.contains("kms:") => {
                return AppError::Aws(AwsProblem::KmsDenied)
            }
            (Some(code), _) if code.starts_with("KMS.") => {
                return AppError::Aws(AwsProblem::KmsDenied)
            }
            (Some("AccessDenied" | "AllAccessDisabled"), _) | (None, 403) => return denied(),
            (Some("NoSuchBucket"), _) => return AppError::Aws(AwsProblem::BucketNotFound),
            // A conditional write (`If-None-Match: *`) found the key taken.
            (Some("PreconditionFailed"), _) | (None, 412) => return AppError::ObjectExists,
            (Some("NoSuchKey" | "NotFound"), _) | (None, 404) => {
                let problem = if resource.contains('/') {
                    AwsProblem::ObjectNotFound
                } else {
                    AwsProblem::BucketNotFound
                };
                return AppError::Aws(problem);
            }
            _ => {}
        }
    }
    AppError::Aws(failure(err).problem)
}

/// The bucket's real region when S3 answered "wrong region" (301, or 400 with the region
/// header). S3 sends `x-amz-bucket-region` on these answers, even to a caller without access.
pub fn region_redirect<E>(err: &SdkError<E, HttpResponse>) -> Option<String> {
    let SdkError::ServiceError(service) = err else {
        return None;
    };
    let raw = service.raw();
    if !matches!(raw.status().as_u16(), 301 | 307 | 400) {
        return None;
    }
    raw.headers()
        .get("x-amz-bucket-region")
        .filter(|region| !region.is_empty())
        .map(str::to_owned)
}
