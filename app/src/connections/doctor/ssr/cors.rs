//! A bucket's CORS rules as the browser meets them, and the one-click fix. S3 answers a
//! browser's request by the *first* rule whose origin, method and headers all match, and exposes
//! that rule's headers only: Crossview's rule therefore goes first when it is merged in, and
//! every rule the bucket had stays, in its order, after it.

use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
use serde::{Deserialize, Serialize};

use crate::{
    audit::Activity,
    aws::{access::assume_audited, region::in_bucket_region, s3_failure, Scope},
    connections::doctor::CorsChange,
    connections::{ssr::get, Status},
    error::AppError,
    iam::Action,
    state::AppState,
};

/// S3's most rules in one bucket's CORS configuration.
const MOST_RULES: usize = 100;
/// The `ID` Crossview's own rule carries, so people see where it came from.
const RULE_ID: &str = "crossview";

/// One rule, in the shape S3's console and CLI show it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rule {
    #[serde(rename = "ID", skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_headers: Vec<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_origins: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<i32>,
}

/// What a browser on Crossview sends to S3: ranged GETs for previews, PUTs of a file's bytes
/// (whose ETag the page must read to complete a multipart upload).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    Read,
    Write,
}

impl Use {
    fn method(self) -> &'static str {
        match self {
            Use::Read => "GET",
            Use::Write => "PUT",
        }
    }

    fn headers(self) -> &'static [&'static str] {
        match self {
            Use::Read => &["range"],
            Use::Write => &["content-type"],
        }
    }
}

/// Why the browser is kept out, for one use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The bucket has no CORS configuration at all.
    NoRules,
    /// No rule names this origin.
    Origin,
    /// A rule names the origin, but none allows this method with these headers.
    Method,
    /// The matching rule does not expose `ETag` (multipart uploads cannot be completed).
    Etag,
}

/// Crossview's rule for `origin`.
pub fn crossview_rule(origin: &str) -> Rule {
    Rule {
        id: Some(RULE_ID.to_owned()),
        allowed_headers: vec!["*".into()],
        allowed_methods: vec!["GET".into(), "PUT".into(), "HEAD".into()],
        allowed_origins: vec![origin.to_owned()],
        expose_headers: vec!["ETag".into()],
        max_age_seconds: Some(3000),
    }
}

/// S3's matching: one `*` wildcard anywhere; headers and methods ignore case where S3's do.
fn wildcard(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let (pattern, value) = match ignore_case {
        true => (pattern.to_ascii_lowercase(), value.to_ascii_lowercase()),
        false => (pattern.to_owned(), value.to_owned()),
    };
    match pattern.split_once('*') {
        None => pattern == value,
        Some((head, tail)) => {
            value.len() >= head.len() + tail.len()
                && value.starts_with(head)
                && value.ends_with(tail)
        }
    }
}

/// Whether the browser on `origin` may make this use of the bucket.
pub fn admits(rules: &[Rule], origin: &str, use_: Use) -> Result<(), Refusal> {
    if rules.is_empty() {
        return Err(Refusal::NoRules);
    }
    let for_origin: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.allowed_origins.iter().any(|o| wildcard(o, origin, false)))
        .collect();
    if for_origin.is_empty() {
        return Err(Refusal::Origin);
    }
    let matching = for_origin.into_iter().find(|r| {
        r.allowed_methods.iter().any(|m| m == use_.method())
            && use_
                .headers()
                .iter()
                .all(|h| r.allowed_headers.iter().any(|a| wildcard(a, h, true)))
    });
    match matching {
        None => Err(Refusal::Method),
        Some(rule) if use_ == Use::Write => rule
            .expose_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case("etag"))
            .then_some(())
            .ok_or(Refusal::Etag),
        Some(_) => Ok(()),
    }
}

/// `rules` with Crossview's rule first, unless they admit both uses already (`None`).
pub fn merged(rules: &[Rule], origin: &str) -> Option<Vec<Rule>> {
    let admitted = [Use::Read, Use::Write]
        .into_iter()
        .all(|u| admits(rules, origin, u).is_ok());
    (!admitted).then(|| {
        std::iter::once(crossview_rule(origin))
            .chain(rules.iter().cloned())
            .collect()
    })
}

pub fn from_sdk(rule: &CorsRule) -> Rule {
    Rule {
        id: rule.id().map(str::to_owned),
        allowed_headers: rule.allowed_headers().to_vec(),
        allowed_methods: rule.allowed_methods().to_vec(),
        allowed_origins: rule.allowed_origins().to_vec(),
        expose_headers: rule.expose_headers().to_vec(),
        max_age_seconds: rule.max_age_seconds(),
    }
}

fn to_sdk(rule: &Rule) -> Result<CorsRule, AppError> {
    CorsRule::builder()
        .set_id(rule.id.clone())
        .set_allowed_headers(Some(rule.allowed_headers.clone()))
        .set_allowed_methods(Some(rule.allowed_methods.clone()))
        .set_allowed_origins(Some(rule.allowed_origins.clone()))
        .set_expose_headers(Some(rule.expose_headers.clone()))
        .set_max_age_seconds(rule.max_age_seconds)
        .build()
        .map_err(AppError::internal)
}

pub fn pretty(rules: &[Rule]) -> String {
    serde_json::to_string_pretty(&serde_json::json!({ "CORSRules": rules })).unwrap_or_default()
}

/// The bucket's rules, read with credentials that may read and replace them (one assumption,
/// audited `bucket.cors_fix`), and the client that reached the bucket.
async fn read(
    state: &AppState,
    owner: i64,
    id: i64,
    bucket: &str,
) -> Result<(Vec<Rule>, aws_sdk_s3::Client), AppError> {
    let connection = get(&state.pool, owner, id).await?;
    match connection.status {
        Status::Verified => {}
        Status::Disabled => return Err(AppError::ConnectionDisabled),
        _ => return Err(AppError::ConnectionNotVerified),
    }
    if connection.read_only {
        return Err(AppError::ReadOnlyConnection);
    }
    let role_arn = connection
        .role_arn
        .as_deref()
        .ok_or(AppError::RoleArnMissing)?;
    let scope = Scope::BucketCors {
        bucket: bucket.to_owned(),
    };
    scope.check()?;
    crate::aws::access::charge(state, owner, false).await?;
    let name = crate::aws::access::session_name(owner);
    let target = crate::connections::ssr::verify::target(&connection, role_arn, &name);
    let assumed = assume_audited(state, owner, id, target, &scope, Activity::CorsFix, None).await?;
    let arn = format!("arn:aws:s3:::{bucket}");
    let answer = in_bucket_region(
        state,
        &assumed,
        bucket,
        (Action::GetBucketCors, &arn),
        |s3| {
            let get = s3.get_bucket_cors().bucket(bucket).send();
            async move {
                match get.await {
                    Ok(out) => Ok(out.cors_rules().iter().map(from_sdk).collect()),
                    Err(err)
                        if err
                            .as_service_error()
                            .and_then(|e| aws_sdk_s3::error::ProvideErrorMetadata::code(e))
                            == Some("NoSuchCORSConfiguration") =>
                    {
                        Ok(Vec::new())
                    }
                    Err(err) => Err(err),
                }
            }
        },
    )
    .await?;
    Ok(answer)
}

pub async fn preview(
    state: &AppState,
    owner: i64,
    id: i64,
    bucket: &str,
    origin: &str,
) -> Result<CorsChange, AppError> {
    let (rules, _) = read(state, owner, id, bucket).await?;
    let after = merged(&rules, origin);
    Ok(CorsChange {
        bucket: bucket.to_owned(),
        before: pretty(&rules),
        after: pretty(after.as_deref().unwrap_or(&rules)),
        unchanged: after.is_none(),
    })
}

/// Reads the bucket's rules again (they may have changed since the preview) and writes them
/// back with Crossview's rule first; nothing when they admit Crossview already.
pub async fn apply(
    state: &AppState,
    owner: i64,
    id: i64,
    bucket: &str,
    origin: &str,
) -> Result<(), AppError> {
    if origin.is_empty() {
        return Err(AppError::Request("the page's origin is not known".into()));
    }
    let (rules, s3) = read(state, owner, id, bucket).await?;
    let Some(after) = merged(&rules, origin) else {
        return Ok(());
    };
    if after.len() > MOST_RULES {
        return Err(AppError::Request(format!(
            "the bucket has {} CORS rules, S3's most: remove one, then try again",
            rules.len()
        )));
    }
    let configuration = CorsConfiguration::builder()
        .set_cors_rules(Some(after.iter().map(to_sdk).collect::<Result<_, _>>()?))
        .build()
        .map_err(AppError::internal)?;
    let arn = format!("arn:aws:s3:::{bucket}");
    s3.put_bucket_cors()
        .bucket(bucket)
        .cors_configuration(configuration)
        .send()
        .await
        .map_err(|err| s3_failure(err, Action::PutBucketCors, &arn))?;
    tracing::info!(bucket, connection = id, "CORS rule merged in");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://cv.example.com";

    fn rule(origins: &[&str], methods: &[&str], expose: &[&str]) -> Rule {
        Rule {
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allowed_methods: methods.iter().map(|s| s.to_string()).collect(),
            allowed_headers: vec!["*".into()],
            expose_headers: expose.iter().map(|s| s.to_string()).collect(),
            ..Rule::default()
        }
    }

    #[test]
    fn a_bucket_admits_the_browser_only_by_a_rule_that_matches_all_of_it() {
        assert_eq!(admits(&[], ORIGIN, Use::Read), Err(Refusal::NoRules));
        let elsewhere = [rule(&["https://other.example"], &["GET", "PUT"], &["ETag"])];
        assert_eq!(admits(&elsewhere, ORIGIN, Use::Read), Err(Refusal::Origin));
        let reads = [rule(&["https://*.example.com"], &["GET"], &[])];
        assert_eq!(admits(&reads, ORIGIN, Use::Read), Ok(()));
        assert_eq!(admits(&reads, ORIGIN, Use::Write), Err(Refusal::Method));
        let hidden = [rule(&["*"], &["GET", "PUT"], &[])];
        assert_eq!(admits(&hidden, ORIGIN, Use::Write), Err(Refusal::Etag));
        let mut no_range = rule(&[ORIGIN], &["GET"], &[]);
        no_range.allowed_headers = vec!["content-type".into()];
        assert_eq!(admits(&[no_range], ORIGIN, Use::Read), Err(Refusal::Method));
        // The first rule that matches decides what is exposed.
        let first_wins = [hidden[0].clone(), crossview_rule(ORIGIN)];
        assert_eq!(admits(&first_wins, ORIGIN, Use::Write), Err(Refusal::Etag));
    }

    #[test]
    fn the_fix_puts_crossviews_rule_first_and_keeps_every_other() {
        let others = vec![
            rule(&["https://other.example"], &["GET"], &[]),
            rule(&["*"], &["PUT"], &[]),
        ];
        let after = merged(&others, ORIGIN).unwrap();
        assert_eq!(after[0], crossview_rule(ORIGIN));
        assert_eq!(&after[1..], &others[..]);
        for use_ in [Use::Read, Use::Write] {
            assert_eq!(admits(&after, ORIGIN, use_), Ok(()));
        }
        assert_eq!(merged(&after, ORIGIN), None, "a second fix changes nothing");
        let text = pretty(&after);
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["CORSRules"][0]["ExposeHeaders"][0], "ETag");
        assert_eq!(back["CORSRules"][0]["ID"], "crossview");
    }
}
