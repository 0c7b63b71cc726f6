//! One bucket (or a location in it) examined: list one key, head it, read the bucket's
//! encryption, CORS, versioning, Object Lock, public access block and lifecycle rules, and ask
//! KMS for a data key (and to decrypt it) when the bucket encrypts with one. Every call reads;
//! what the role may not read is reported as unknown, never guessed.

use aws_sdk_s3::types::{BucketVersioningStatus, ServerSideEncryption};

use super::{
    cors::{self, Refusal, Use},
    fixes, links,
    reads::{all_of, kms, object_lock, public_access, read, verdict_of, Context},
};
use crate::{
    aws::bucket::abort_after_days,
    connections::doctor::{BucketReport, Capability, Finding, Verdict},
    error::{AppError, AwsProblem},
    iam::Action,
};

pub async fn examine(
    cx: &Context<'_>,
    bucket: String,
    prefix: String,
) -> (BucketReport, Vec<Finding>) {
    let mut findings = Vec::new();
    let mut facts = Vec::new();
    let arn = format!("arn:aws:s3:::{bucket}");
    let keys = format!("{arn}/{prefix}*");
    let role = fixes::Role::of(cx.role_arn);
    let problem = |code, message: String, fix| fixes::finding(&bucket, code, message, fix);

    // Browse: one key listed.
    let listed = read(cx, &bucket, (Action::ListBucket, &arn), "", |s3| {
        s3.list_objects_v2()
            .bucket(&bucket)
            .prefix(&prefix)
            .max_keys(1)
            .send()
    })
    .await;
    let (browse, key) = match listed {
        Ok(out) => {
            let key = out.and_then(|o| {
                o.contents()
                    .first()
                    .and_then(|c| c.key().map(str::to_owned))
            });
            (Verdict::Works, key)
        }
        Err(AppError::Aws(AwsProblem::BucketNotFound)) => {
            findings.push(problem(
                "bucket_gone",
                format!("{bucket} does not exist (any more), or is not in this account: its page shows an error."),
                None,
            ));
            let gone = Verdict::Fails("the bucket does not exist".into());
            let report = BucketReport {
                verdicts: Capability::ALL.iter().map(|c| (*c, gone.clone())).collect(),
                bucket,
                prefix,
                region: None,
                facts,
            };
            return (report, findings);
        }
        Err(err) => {
            if matches!(err, AppError::Denied { .. }) {
                findings.push(problem(
                    "list_denied",
                    format!(
                        "Browsing {bucket} fails: the role does not allow s3:ListBucket on it."
                    ),
                    Some(role.grant(&bucket, &[Action::ListBucket], &arn)),
                ));
            }
            (verdict_of(&err), None)
        }
    };
    // Region: S3's own answer (an empty constraint is us-east-1's).
    let region = match read(cx, &bucket, (Action::GetBucketLocation, &arn), "", |s3| {
        s3.get_bucket_location().bucket(&bucket).send()
    })
    .await
    {
        Ok(out) => Some(
            out.and_then(|o| o.location_constraint().map(|c| c.as_str().to_owned()))
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| "us-east-1".to_owned()),
        ),
        Err(_) => None,
    };

    // Read: the key just listed, headed.
    let readable = match &key {
        None => Verdict::Unknown(format!("no object under {bucket}/{prefix} to try reading")),
        Some(key) => {
            let object = format!("{arn}/{key}");
            match read(cx, &bucket, (Action::GetObject, &object), "", |s3| {
                s3.head_object().bucket(&bucket).key(key).send()
            })
            .await
            {
                Ok(_) => Verdict::Works,
                Err(err) => {
                    if matches!(err, AppError::Denied { .. }) {
                        findings.push(problem(
                            "read_denied",
                            format!("Downloads, previews and share links in {bucket} fail: the role does not allow s3:GetObject there."),
                            Some(role.grant(&bucket, &[Action::GetObject], &keys)),
                        ));
                    }
                    verdict_of(&err)
                }
            }
        }
    };

    // Links: honoured for as long as Crossview signs them?
    let lifetime = cx.state.config.presign_seconds;
    let links = match (&readable, &key) {
        (Verdict::Works, Some(key)) => {
            let cap = links::age_cap(cx, &bucket, key, region.as_deref()).await;
            facts.push((
                "Signed links".into(),
                match cap {
                    None => format!("Honoured for {lifetime} seconds (PRESIGN_SECONDS)"),
                    Some(cap) => format!("Refused before {lifetime} seconds; honoured at {cap}"),
                },
            ));
            match cap {
                None => Verdict::Works,
                Some(cap) => {
                    findings.push(fixes::link_age(&bucket, cap, lifetime));
                    Verdict::Fails(format!(
                        "S3 refuses a link of {bucket} before its {lifetime} seconds are up"
                    ))
                }
            }
        }
        _ => Verdict::Unknown("no object could be read to try a link".into()),
    };
    // A session shorter than PRESIGN_SECONDS signs none of the owner's URLs.
    let session = match cx.session_short {
        true => Verdict::Fails(format!(
            "the role's sessions end before the {lifetime} seconds a presigned URL lives"
        )),
        false => Verdict::Works,
    };

    // Encryption, and the KMS key's use.
    let (generate, decrypt) = match read(
        cx,
        &bucket,
        (Action::GetEncryptionConfiguration, &arn),
        "ServerSideEncryptionConfigurationNotFoundError",
        |s3| s3.get_bucket_encryption().bucket(&bucket).send(),
    )
    .await
    {
        Ok(out) => {
            let default = out.as_ref().and_then(|o| {
                o.server_side_encryption_configuration()?
                    .rules()
                    .first()?
                    .apply_server_side_encryption_by_default()
                    .cloned()
            });
            match default {
                Some(d)
                    if matches!(
                        d.sse_algorithm(),
                        ServerSideEncryption::AwsKms | ServerSideEncryption::AwsKmsDsse
                    ) =>
                {
                    let key_id = d.kms_master_key_id().map(str::to_owned);
                    facts.push((
                        "Encryption".into(),
                        format!(
                            "SSE-KMS ({})",
                            key_id.as_deref().unwrap_or("the AWS managed key aws/s3")
                        ),
                    ));
                    match key_id {
                        Some(key_id) => {
                            kms(
                                cx,
                                &bucket,
                                &key_id,
                                region.as_deref(),
                                &role,
                                &mut findings,
                            )
                            .await
                        }
                        // The AWS managed key admits every principal of its account through S3.
                        None => (Verdict::Works, Verdict::Works),
                    }
                }
                Some(_) => {
                    facts.push(("Encryption".into(), "SSE-S3 (keys managed by S3)".into()));
                    (Verdict::Works, Verdict::Works)
                }
                None => {
                    facts.push(("Encryption".into(), "None by default".into()));
                    (Verdict::Works, Verdict::Works)
                }
            }
        }
        Err(err) => {
            facts.push(("Encryption".into(), format!("Not known: {err}")));
            let unknown = Verdict::Unknown("the bucket's encryption could not be read".into());
            (unknown.clone(), unknown)
        }
    };

    // CORS, against the origin the browser is on.
    let (cors_read, cors_write) = match read(
        cx,
        &bucket,
        (Action::GetBucketCors, &arn),
        "NoSuchCORSConfiguration",
        |s3| s3.get_bucket_cors().bucket(&bucket).send(),
    )
    .await
    {
        Ok(out) => {
            let rules: Vec<cors::Rule> = out
                .map(|o| o.cors_rules().iter().map(cors::from_sdk).collect())
                .unwrap_or_default();
            let reads = cors::admits(&rules, cx.origin, Use::Read);
            let writes = cors::admits(&rules, cx.origin, Use::Write);
            let worst = reads.err().or(writes.err());
            facts.push((
                "CORS".into(),
                match worst {
                    None => format!("Admits {}", cx.origin),
                    Some(_) => format!("{} rule(s); not enough for {}", rules.len(), cx.origin),
                },
            ));
            if let Some(refusal) = worst {
                let after = cors::merged(&rules, cx.origin).unwrap_or_default();
                findings.push(fixes::cors(
                    &bucket,
                    refusal,
                    cx.origin,
                    &after,
                    !cx.connection.read_only,
                ));
            }
            let verdict = |r: Result<(), Refusal>| match r {
                Ok(()) => Verdict::Works,
                Err(refusal) => Verdict::Fails(fixes::cors_reason(refusal, cx.origin)),
            };
            (verdict(reads), verdict(writes))
        }
        Err(err) => {
            facts.push(("CORS".into(), format!("Not known: {err}")));
            let unknown =
                Verdict::Unknown(format!("the bucket's CORS rules could not be read: {err}"));
            (unknown.clone(), unknown)
        }
    };

    // Versioning, and whether the role may list versions.
    let versioning = read(cx, &bucket, (Action::GetBucketVersioning, &arn), "", |s3| {
        s3.get_bucket_versioning().bucket(&bucket).send()
    })
    .await;
    let enabled = match &versioning {
        Ok(out) => {
            let status = out.as_ref().and_then(|o| o.status().cloned());
            facts.push((
                "Versioning".into(),
                match &status {
                    Some(BucketVersioningStatus::Enabled) => "Enabled".into(),
                    Some(BucketVersioningStatus::Suspended) => "Suspended".into(),
                    _ => "Never enabled".to_owned(),
                },
            ));
            Some(status.is_some())
        }
        Err(err) => {
            facts.push(("Versioning".into(), format!("Not known: {err}")));
            None
        }
    };
    let versions = match read(cx, &bucket, (Action::ListBucketVersions, &arn), "", |s3| {
        s3.list_object_versions()
            .bucket(&bucket)
            .prefix(&prefix)
            .max_keys(1)
            .send()
    })
    .await
    {
        Ok(_) if enabled == Some(false) => {
            Verdict::Off("versioning was never enabled on this bucket".into())
        }
        Ok(_) => Verdict::Works,
        Err(err) => {
            if matches!(err, AppError::Denied { .. }) {
                findings.push(problem(
                    "versions_denied",
                    format!("An object's versions in {bucket} cannot be listed or restored: the role does not allow s3:ListBucketVersions."),
                    Some(role.grant(&bucket, &[Action::ListBucketVersions, Action::GetObjectVersion], &arn)),
                ));
            }
            verdict_of(&err)
        }
    };

    facts.push(object_lock(cx, &bucket, &arn).await);
    facts.push(public_access(cx, &bucket, &arn).await);

    // Unfinished uploads' cleanup.
    let cleanup = read(
        cx,
        &bucket,
        (Action::GetLifecycleConfiguration, &arn),
        "NoSuchLifecycleConfiguration",
        |s3| {
            s3.get_bucket_lifecycle_configuration()
                .bucket(&bucket)
                .send()
        },
    )
    .await
    .map(|out| abort_after_days(out.as_ref().map(|o| o.rules()).unwrap_or_default(), &prefix));
    facts.push((
        "Unfinished uploads".into(),
        match &cleanup {
            Ok(Some(days)) => format!("Aborted after {days} days by a lifecycle rule"),
            Ok(None) => "Kept until aborted (no lifecycle rule)".into(),
            Err(err) => format!("Not known: {err}"),
        },
    ));
    if matches!(cleanup, Ok(None)) && !cx.connection.read_only {
        findings.push(fixes::lifecycle(&bucket, &prefix));
    }

    // Writes, as the write probe found them.
    let written = cx
        .writes
        .iter()
        .find(|(b, p, _)| *b == bucket && *p == prefix)
        .map(|(_, _, w)| *w);
    let write = match (cx.connection.read_only, written) {
        (true, _) => Verdict::Off("the connection is read-only".into()),
        (false, Some(true)) => Verdict::Works,
        (false, Some(false)) => {
            findings.push(problem(
                "write_denied",
                format!("Uploads, deletes, copies and moves in {bucket} fail: the role does not allow s3:PutObject there."),
                Some(role.grant(&bucket, &Action::WRITE, &keys)),
            ));
            Verdict::Fails(format!("the role does not allow s3:PutObject on {keys}"))
        }
        (false, None) => Verdict::Unknown("the write probe got no clear answer".into()),
    };
    let upload = match write {
        Verdict::Off(_) => write,
        _ => all_of(&[&write, &cors_write, &generate, &session]),
    };

    let verdicts = vec![
        (Capability::Browse, browse),
        (
            Capability::Download,
            all_of(&[&readable, &decrypt, &session]),
        ),
        (Capability::Upload, upload),
        (
            Capability::Preview,
            all_of(&[&readable, &decrypt, &cors_read, &session]),
        ),
        (Capability::Share, all_of(&[&readable, &decrypt, &links])),
        (Capability::Versions, versions),
    ];
    let report = BucketReport {
        bucket,
        prefix,
        region,
        facts,
        verdicts,
    };
    (report, findings)
}
