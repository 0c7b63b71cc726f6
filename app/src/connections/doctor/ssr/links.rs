//! Whether a presigned URL is honoured for as long as Crossview signs it (`PRESIGN_SECONDS`).
//! A bucket policy or an organisation's resource control policy can refuse signatures older
//! than some age (`s3:signatureAge`) whatever the URL's own expiry says; only S3's answer tells,
//! so the doctor signs a HEAD of a listed key as if it had been signed that long ago and sends
//! it (a HEAD: no object byte reaches the server). A shorter age is tried only after a refusal.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;

use super::reads::Context;

/// The ages tried after the configured lifetime is refused, longest first (seconds).
const SHORTER: [u32; 7] = [3600, 1800, 900, 600, 300, 120, 60];
/// A URL tried at age `a` still has this long to run, so that only its age can refuse it.
const LEFT: u32 = 30;

/// What S3 answered for a URL of one age.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Honoured,
    Refused,
    /// Neither: unreachable, throttled, or an answer a signature age does not explain.
    Unclear,
}

/// The longest age S3 honoured when the configured lifetime was refused: `Some(0)` when even a
/// minute-old URL is; `None` when the full lifetime is honoured or nothing clear was learnt.
pub async fn age_cap(
    cx: &Context<'_>,
    bucket: &str,
    key: &str,
    region: Option<&str>,
) -> Option<u32> {
    let lifetime = cx.state.config.presign_seconds;
    let oldest = lifetime.saturating_sub(LEFT);
    // One request when the lifetime is honoured (the usual case). A refusal says something of
    // age only if a URL signed just now is honoured.
    if head(cx, bucket, key, region, oldest, lifetime).await != Answer::Refused
        || head(cx, bucket, key, region, 0, lifetime).await != Answer::Honoured
    {
        return None;
    }
    for age in SHORTER.into_iter().filter(|a| *a < oldest) {
        match head(cx, bucket, key, region, age, age + LEFT).await {
            Answer::Honoured => return Some(age),
            Answer::Refused => continue,
            Answer::Unclear => return None,
        }
    }
    Some(0)
}

/// A HEAD of `key`, presigned `age` seconds ago for `lifetime` seconds, sent now.
async fn head(
    cx: &Context<'_>,
    bucket: &str,
    key: &str,
    region: Option<&str>,
    age: u32,
    lifetime: u32,
) -> Answer {
    let signed = SystemTime::now() - Duration::from_secs(age.into());
    let Ok(config) = PresigningConfig::builder()
        .start_time(signed)
        .expires_in(Duration::from_secs(lifetime.into()))
        .build()
    else {
        return Answer::Unclear;
    };
    let Ok(presigned) = cx
        .assumed
        .s3(region)
        .head_object()
        .bucket(bucket)
        .key(key)
        .presigned(config)
        .await
    else {
        return Answer::Unclear;
    };
    let mut request = http::Request::builder()
        .method(presigned.method())
        .uri(presigned.uri());
    for (name, value) in presigned.headers() {
        request = request.header(name, value);
    }
    let Ok(request) = request.body(Vec::new()) else {
        return Answer::Unclear;
    };
    match crate::outbound::send(request).await.map(|r| r.status()) {
        Ok(status) if status.is_success() => Answer::Honoured,
        Ok(http::StatusCode::FORBIDDEN) => Answer::Refused,
        _ => Answer::Unclear,
    }
}
