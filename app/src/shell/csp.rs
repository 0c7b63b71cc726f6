//! Content Security Policy. Pages get a per-response nonce for Leptos's inline hydration and
//! streaming scripts; everything else gets a policy that allows nothing at all.

use http::{header::CONTENT_SECURITY_POLICY, request::Parts, HeaderValue};
use leptos::{nonce::use_nonce, prelude::use_context};

use crate::{error::AppError, state::AppState};

/// For responses that are not pages (JSON, files, redirects).
pub const NON_PAGE: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The S3 endpoints a signed-in user's pages may reach directly (uploads, previews): put in the
/// request's extensions before the page renders, since finding them needs the database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct S3Origins(pub Vec<String>);

/// `connect-src`, `img-src`, `media-src` and `frame-src` (PDF previews) allow these origins
/// besides the site itself; everything else stays closed.
pub fn page_policy(nonce: &str, s3: &S3Origins) -> String {
    let s3 = s3.0.iter().fold(String::new(), |all, o| all + " " + o);
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:{s3}; connect-src 'self'{s3}; \
         media-src 'self'{s3}; frame-src 'self'{s3}; font-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

/// The S3 endpoints in use for `user`: the custom endpoints of their connections (their own and
/// those shared with them), and AWS's (Crossview's own endpoint override, such as a local
/// stand-in, or else the regional S3 endpoints of the default region and of every region a
/// bucket was seen in).
pub async fn s3_origins(state: &AppState, user: i64) -> Result<S3Origins, AppError> {
    // Custom endpoints are used only where the deployment allows them (every assumption checks
    // again), so without that setting there is nothing to look up.
    let custom: Vec<String> = match state.config.allow_custom_endpoints {
        false => Vec::new(),
        true => {
            sqlx::query_scalar!(
                r#"select distinct c.s3_endpoint as "e!" from connections c
             where c.s3_endpoint is not null and (c.owner_id = $1 or exists (
                 select 1 from locations l join grants g on g.location_id = l.id
                 where l.connection_id = c.id and g.grantee_id = $1
                     and grant_live(g.revoked_at, g.expires_at)))"#,
                user
            )
            .fetch_all(&state.pool)
            .await?
        }
    };
    with_aws(state, custom).await
}

/// The S3 endpoints a share link's visitor reaches (a shared folder's zip): its connection's
/// custom endpoint, if any, and AWS's. Nothing of the owner's other connections.
pub async fn s3_origins_of_link(state: &AppState, token: &str) -> Result<S3Origins, AppError> {
    let custom: Vec<String> = match state.config.allow_custom_endpoints {
        false => Vec::new(),
        true => sqlx::query_scalar(
            "select c.s3_endpoint from share_links l join connections c on c.id = l.connection_id
             where l.token_hash = $1 and c.s3_endpoint is not null",
        )
        .bind(crate::token::digest(token))
        .fetch_all(&state.pool)
        .await?,
    };
    with_aws(state, custom).await
}

/// `origins`, and AWS's: Crossview's own endpoint override, such as a local stand-in, or else the
/// regional S3 endpoints of the default region and of every region a bucket was seen in.
async fn with_aws(state: &AppState, mut origins: Vec<String>) -> Result<S3Origins, AppError> {
    let base = state.aws.base_config();
    match base.endpoint_url() {
        Some(endpoint) => origins.push(origin_of(endpoint)),
        None => {
            let mut regions: Vec<String> = sqlx::query_scalar!(
                "select distinct region from bucket_regions where endpoint = 'aws'"
            )
            .fetch_all(&state.pool)
            .await?;
            regions.extend(base.region().map(|r| r.to_string()));
            regions.sort();
            regions.dedup();
            for region in regions.iter().filter(|r| valid_region(r)) {
                let domain = match region.starts_with("cn-") {
                    true => "amazonaws.com.cn",
                    false => "amazonaws.com",
                };
                // Virtual-hosted (bucket.s3.region…) and path-style (buckets with dots).
                origins.push(format!("https://*.s3.{region}.{domain}"));
                origins.push(format!("https://s3.{region}.{domain}"));
            }
            origins.push("https://*.s3.amazonaws.com".into());
        }
    }
    origins.sort();
    origins.dedup();
    Ok(S3Origins(origins))
}

/// An endpoint URL's origin (scheme, host, port): what a CSP source names.
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let authority = rest.split('/').next().unwrap_or_default();
    format!("{scheme}://{authority}")
}

/// A region name as AWS spells them; anything else must not reach a header.
fn valid_region(region: &str) -> bool {
    !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Puts this render's nonce into the page's CSP header.
pub fn set_page_policy() {
    let (Some(nonce), Some(res)) = (use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let s3 = use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<S3Origins>().cloned())
        .unwrap_or_default();
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce, &s3)) {
        res.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_reach_the_s3_origins_given_and_nothing_else() {
        let s3 = S3Origins(vec!["http://127.0.0.1:9000".into()]);
        let policy = page_policy("n", &s3);
        for directive in ["connect-src", "img-src", "media-src", "frame-src"] {
            let sources = policy
                .split(';')
                .map(str::trim)
                .find(|d| d.starts_with(directive))
                .unwrap();
            assert!(
                sources.ends_with("'self' http://127.0.0.1:9000")
                    || sources.ends_with("data: http://127.0.0.1:9000"),
                "{sources}"
            );
        }
        assert!(!page_policy("n", &S3Origins::default()).contains("amazonaws"));
        assert_eq!(origin_of("http://127.0.0.1:5000/"), "http://127.0.0.1:5000");
        assert!(valid_region("eu-west-1") && !valid_region("x; script-src *"));
    }
}
