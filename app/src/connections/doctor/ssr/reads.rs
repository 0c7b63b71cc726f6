//! The doctor's reads of one bucket: each S3 call in the bucket's region, what a refusal means
//! for a capability, and the settings that only inform (Object Lock, public access) or that
//! need KMS's own answer (the bucket's key).

use std::{fmt::Debug, future::Future};

use aws_sdk_s3::{
    config::http::HttpResponse,
    error::{ProvideErrorMetadata, SdkError},
    Client,
};

use super::fixes;
use crate::{
    aws::{region::in_bucket_region, Assumed},
    connections::{
        doctor::{Finding, Verdict},
        Connection,
    },
    error::{AppError, AwsProblem},
    iam::Action,
    state::AppState,
};

pub struct Context<'a> {
    pub state: &'a AppState,
    pub assumed: &'a Assumed,
    pub connection: &'a Connection,
    pub role_arn: &'a str,
    /// The origin the person's browser is on.
    pub origin: &'a str,
    /// What the write probe learnt: `(bucket, prefix, writable)`.
    pub writes: &'a [(String, String, bool)],
    /// AWS refused a session as long as `PRESIGN_SECONDS`: none of the owner's URLs is signed.
    pub session_short: bool,
}

/// One S3 call on the bucket, in its region; `Ok(None)` when S3 answers `absent` (the
/// configuration does not exist).
pub async fn read<T, E, Fut>(
    cx: &Context<'_>,
    bucket: &str,
    (action, resource): (Action, &str),
    absent: &'static str,
    call: impl Fn(Client) -> Fut,
) -> Result<Option<T>, AppError>
where
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + Debug,
{
    let answer = in_bucket_region(cx.state, cx.assumed, bucket, (action, resource), |s3| {
        let call = call(s3);
        async move {
            match call.await {
                Ok(out) => Ok(Some(out)),
                Err(err) if err.as_service_error().and_then(|e| e.code()) == Some(absent) => {
                    Ok(None)
                }
                Err(err) => Err(err),
            }
        }
    })
    .await;
    answer.map(|(out, _)| out)
}

/// What a refusal means for a capability: the role lacks the permission, or it is not known.
pub fn verdict_of(err: &AppError) -> Verdict {
    match err {
        AppError::Denied { .. } | AppError::Aws(AwsProblem::KmsDenied) => {
            Verdict::Fails(err.to_string())
        }
        _ => Verdict::Unknown(err.to_string()),
    }
}

/// The first failure, else the first unknown, else works.
pub fn all_of(verdicts: &[&Verdict]) -> Verdict {
    let find = |f: fn(&Verdict) -> bool| verdicts.iter().find(|v| f(v)).map(|v| (*v).clone());
    find(|v| matches!(v, Verdict::Fails(_)))
        .or_else(|| find(|v| matches!(v, Verdict::Unknown(_))))
        .unwrap_or(Verdict::Works)
}

/// Whether the role may use the bucket's KMS key: a data key generated (uploads) and decrypted
/// again (downloads). Neither changes anything; the data key is dropped at once.
pub async fn kms(
    cx: &Context<'_>,
    bucket: &str,
    key_id: &str,
    bucket_region: Option<&str>,
    role: &fixes::Role,
    findings: &mut Vec<Finding>,
) -> (Verdict, Verdict) {
    if !cx.assumed.is_aws() {
        let unknown = Verdict::Unknown("KMS is not checked on S3-compatible stores".into());
        return (unknown.clone(), unknown);
    }
    // A key ARN names its region; a bare id or alias is in the bucket's.
    let region = key_id
        .strip_prefix("arn:")
        .and_then(|rest| rest.split(':').nth(2))
        .or(bucket_region);
    let kms = cx.assumed.kms(region);
    let key_arn = match key_id.starts_with("arn:") {
        true => key_id.to_owned(),
        false => format!("arn:aws:kms:{}:*:key/{key_id}", region.unwrap_or("*")),
    };
    let classify = |code: Option<&str>, action: &str, what: &str| -> Verdict {
        match code {
            Some("AccessDeniedException") => Verdict::Fails(format!(
                "the role may not use the bucket's KMS key to {what} ({action})"
            )),
            Some("NotFoundException") => {
                Verdict::Fails(format!("the bucket's KMS key {key_id} does not exist"))
            }
            Some("DisabledException" | "KMSInvalidStateException") => Verdict::Fails(format!(
                "the bucket's KMS key {key_id} is disabled or pending deletion"
            )),
            _ => Verdict::Unknown(format!("KMS did not say whether the role may {what}")),
        }
    };
    let generated = kms
        .generate_data_key()
        .key_id(key_id)
        .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
        .send()
        .await;
    let (generate, blob) = match generated {
        Ok(out) => (Verdict::Works, out.ciphertext_blob().cloned()),
        Err(err) => {
            let code = err.as_service_error().and_then(|e| e.code());
            (
                classify(code, "kms:GenerateDataKey", "encrypt uploads"),
                None,
            )
        }
    };
    let decrypt = match blob {
        Some(blob) => match kms
            .decrypt()
            .ciphertext_blob(blob)
            .key_id(key_id)
            .send()
            .await
        {
            Ok(_) => Verdict::Works,
            Err(err) => {
                let code = err.as_service_error().and_then(|e| e.code());
                classify(code, "kms:Decrypt", "decrypt downloads")
            }
        },
        // Without a data key of its own there is nothing to decrypt: a download is headed
        // instead, which S3 answers without the key; the read verdict stands.
        None if matches!(generate, Verdict::Fails(_)) => Verdict::Unknown(
            "the role may not encrypt with the key, so decrypting could not be tried".into(),
        ),
        None => Verdict::Unknown("KMS did not answer".into()),
    };
    for (verdict, code, sentence) in [
        (&generate, "kms_encrypt_denied", "Uploads to {bucket} fail"),
        (
            &decrypt,
            "kms_decrypt_denied",
            "Downloads, previews and share links in {bucket} fail",
        ),
    ] {
        if let Verdict::Fails(why) = verdict {
            findings.push(fixes::finding(
                bucket,
                code,
                format!("{}: {why}.", sentence.replace("{bucket}", bucket)),
                Some(role.grant(
                    bucket,
                    &[Action::KmsGenerateDataKey, Action::KmsDecrypt],
                    &key_arn,
                )),
            ));
        }
    }
    (generate, decrypt)
}

pub async fn object_lock(cx: &Context<'_>, bucket: &str, arn: &str) -> (String, String) {
    let answer = read(
        cx,
        bucket,
        (Action::GetBucketObjectLockConfiguration, arn),
        "ObjectLockConfigurationNotFoundError",
        |s3| s3.get_object_lock_configuration().bucket(bucket).send(),
    )
    .await;
    let value = match answer {
        Ok(Some(out)) => match out.object_lock_configuration().and_then(|c| c.rule()?.default_retention()) {
            Some(retention) => format!(
                "On: new objects are kept {} {} days and {} years (deletes leave a delete marker; locked versions stay)",
                retention.mode().map(|m| m.as_str()).unwrap_or("retained"),
                retention.days().unwrap_or(0),
                retention.years().unwrap_or(0),
            ),
            None => "On, without a default retention".into(),
        },
        Ok(None) => "Off".into(),
        Err(err) => format!("Not known: {err}"),
    };
    ("Object Lock".into(), value)
}

pub async fn public_access(cx: &Context<'_>, bucket: &str, arn: &str) -> (String, String) {
    let answer = read(
        cx,
        bucket,
        (Action::GetBucketPublicAccessBlock, arn),
        "NoSuchPublicAccessBlockConfiguration",
        |s3| s3.get_public_access_block().bucket(bucket).send(),
    )
    .await;
    let value = match answer {
        Ok(Some(out)) => {
            let block = out.public_access_block_configuration();
            let all = block.is_some_and(|b| {
                b.block_public_acls() == Some(true)
                    && b.ignore_public_acls() == Some(true)
                    && b.block_public_policy() == Some(true)
                    && b.restrict_public_buckets() == Some(true)
            });
            match all {
                true => {
                    "All public access blocked (share links are presigned: not affected)".into()
                }
                false => "Partly blocked (share links are presigned: not affected)".into(),
            }
        }
        Ok(None) => "No block on the bucket (the account's may apply)".into(),
        Err(err) => format!("Not known: {err}"),
    };
    ("Public access".into(), value)
}
