//! Against the AWS stand-in in strict mode (scripts/test.sh starts and seeds it): the base
//! identity comes from the standard credential chain and endpoint settings, it may do nothing
//! but assume roles, and the stand-in enforces ExternalIds the way AWS does.

use std::time::{Duration, SystemTime};

use crate::support::standin::http;
use app::aws::AwsGateway;
use aws_sdk_s3::presigning::PresigningConfig;

use crate::support::standin::env;

/// The error code S3 answered with.
fn s3_code<E: aws_sdk_s3::error::ProvideErrorMetadata>(
    err: &aws_sdk_s3::error::SdkError<E>,
) -> Option<&str> {
    err.as_service_error()
        .and_then(aws_sdk_s3::error::ProvideErrorMetadata::code)
}

async fn gateway() -> AwsGateway {
    crate::support::aws().await
}

#[tokio::test]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn base_identity_comes_from_the_standard_chain() {
    let arn = gateway().await.own_principal_arn().await.unwrap();
    assert_eq!(arn, env("CROSSVIEW_STANDIN_PRINCIPAL_ARN"));
}

#[tokio::test]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn base_identity_cannot_touch_s3_itself() {
    let gw = gateway().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(gw.base_config())
            .force_path_style(true)
            .build(),
    );
    let err = s3.list_buckets().send().await.unwrap_err();
    assert_eq!(s3_code(&err), Some("AccessDenied"));
}

#[tokio::test]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn the_stand_in_enforces_external_ids_like_aws() {
    let gw = gateway().await;
    let sts = aws_sdk_sts::Client::new(gw.base_config());
    let role = env("CROSSVIEW_STANDIN_CHECK_ROLE_ARN");
    let id = env("CROSSVIEW_STANDIN_CHECK_EXTERNAL_ID");
    let assume = |external_id: Option<String>| {
        sts.assume_role()
            .role_arn(&role)
            .role_session_name("crossview-check")
            .set_external_id(external_id)
            .send()
    };

    assume(Some(id.clone()))
        .await
        .expect("the right ExternalId is trusted");
    for wrong in [None, Some("not-the-id".to_owned())] {
        let err = assume(wrong.clone()).await.expect_err("refused");
        let code = err
            .as_service_error()
            .and_then(|e| aws_sdk_sts::error::ProvideErrorMetadata::code(e));
        assert_eq!(code, Some("AccessDenied"), "ExternalId {wrong:?}");
    }
}

/// AWS takes session policies in tab, line feed, carriage return and U+0020–U+00FF only; so
/// does the stand-in, so that a policy naming a key in another script fails here as it would
/// there. The same key escaped as `\uXXXX` is accepted.
#[tokio::test]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn the_stand_in_refuses_session_policies_outside_awss_charset() {
    let gw = gateway().await;
    let sts = aws_sdk_sts::Client::new(gw.base_config());
    let role = env("CROSSVIEW_STANDIN_CHECK_ROLE_ARN");
    let id = env("CROSSVIEW_STANDIN_CHECK_EXTERNAL_ID");
    let policy = |resource: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/{resource}"}}]}}"#
        )
    };
    let assume = |policy: String| {
        sts.assume_role()
            .role_arn(&role)
            .role_session_name("crossview-charset")
            .external_id(&id)
            .policy(policy)
            .send()
    };
    for raw in ["写真/東京 🗼.jpg", "Ελληνικά/файл.txt"] {
        let err = assume(policy(raw)).await.expect_err("refused like AWS");
        let code = err
            .as_service_error()
            .and_then(|e| aws_sdk_sts::error::ProvideErrorMetadata::code(e));
        assert_eq!(code, Some("ValidationError"), "{raw}");
    }
    assume(policy(r"caf\u00e9 \u5199\u771f \ud83d\uddfc"))
        .await
        .expect("escaped, the same characters are accepted");
    assume(policy("café"))
        .await
        .expect("Latin-1 itself is within the charset");
}

// Presigned URLs, the way S3 treats them. The strict stand-in checks a query-string signature
// (SigV4 query authentication) like a header one, refuses it once expired, and authorizes the
// action with the role's policy *and* the session policy given to AssumeRole.

/// A role that may read every object of `cv-transfers`, and an S3 client signing with a session
/// of it whose session policy allows reading `preview/notes.txt` only.
async fn session_for_notes(role: &str) -> aws_sdk_s3::Client {
    let external_id = format!("{role}-external-id-0123456789");
    let arn = crate::support::standin::put_role(
        role,
        Some(&external_id),
        Some(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        ),
    );
    let gw = gateway().await;
    let session_policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::cv-transfers/preview/notes.txt"}]}"#;
    let credentials = aws_sdk_sts::Client::new(gw.base_config())
        .assume_role()
        .role_arn(arn)
        .role_session_name("crossview-presign-check")
        .external_id(external_id)
        .policy(session_policy)
        .send()
        .await
        .expect("the role trusts Crossview under this ExternalId")
        .credentials
        .unwrap();
    let credentials = aws_sdk_s3::config::Credentials::new(
        credentials.access_key_id,
        credentials.secret_access_key,
        Some(credentials.session_token),
        None,
        "test",
    );
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(gw.base_config())
            .credentials_provider(credentials)
            .force_path_style(true)
            .build(),
    )
}

async fn presigned_get(s3: &aws_sdk_s3::Client, key: &str, config: PresigningConfig) -> String {
    s3.get_object()
        .bucket("cv-transfers")
        .key(key)
        .presigned(config)
        .await
        .unwrap()
        .uri()
        .to_owned()
}

fn minutes(n: u64) -> PresigningConfig {
    PresigningConfig::expires_in(Duration::from_secs(60 * n)).unwrap()
}

/// S3's error code and message in an error answer.
fn s3_error(body: &str) -> (String, String) {
    let element = |name: &str| {
        body.split_once(&format!("<{name}>"))
            .and_then(|(_, rest)| rest.split_once(&format!("</{name}>")))
            .map(|(value, _)| value.to_owned())
            .unwrap_or_default()
    };
    (element("Code"), element("Message"))
}

#[tokio::test]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_presigned_get_signed_by_an_assumed_role_session_reads_the_object() {
    let s3 = session_for_notes("presign-ok").await;
    let url = presigned_get(&s3, "preview/notes.txt", minutes(5)).await;
    assert!(url.contains("X-Amz-Security-Token="), "{url}");
    let answer = http("GET", &url, &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.starts_with("Plain text, <b>not markup</b>."));
}

#[tokio::test]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_presigned_url_whose_key_or_signature_was_changed_fails_with_signature_does_not_match() {
    let s3 = session_for_notes("presign-tampered").await;
    let url = presigned_get(&s3, "preview/notes.txt", minutes(5)).await;
    let other_key = url.replace("preview/notes.txt", "preview/photo.png");
    let longer = url.replace("X-Amz-Expires=300", "X-Amz-Expires=600");
    let (head, rest) = url.split_once("X-Amz-Signature=").unwrap();
    let (signature, tail) = rest.split_at(rest.find('&').unwrap_or(rest.len()));
    let forged = format!(
        "{head}X-Amz-Signature={}{tail}",
        "0".repeat(signature.len())
    );
    for tampered in [other_key, longer, forged] {
        assert_ne!(tampered, url);
        let answer = http("GET", &tampered, &[]).await;
        assert_eq!(answer.status, 403, "{tampered}");
        assert_eq!(
            s3_error(&answer.body).0,
            "SignatureDoesNotMatch",
            "{tampered}"
        );
    }
}

#[tokio::test]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn an_expired_presigned_url_is_access_denied_with_request_has_expired() {
    let s3 = session_for_notes("presign-expired").await;
    let signed_an_hour_ago = PresigningConfig::builder()
        .start_time(SystemTime::now() - Duration::from_secs(3600))
        .expires_in(Duration::from_secs(60))
        .build()
        .unwrap();
    let url = presigned_get(&s3, "preview/notes.txt", signed_an_hour_ago).await;
    let answer = http("GET", &url, &[]).await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        s3_error(&answer.body),
        ("AccessDenied".to_owned(), "Request has expired".to_owned())
    );
}

#[tokio::test]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_presigned_url_outside_the_session_policy_is_access_denied_though_the_role_allows_it() {
    let s3 = session_for_notes("presign-other-key").await;
    let url = presigned_get(&s3, "preview/photo.png", minutes(5)).await;
    let answer = http("GET", &url, &[]).await;
    assert_eq!(answer.status, 403);
    assert_eq!(s3_error(&answer.body).0, "AccessDenied");
}

#[tokio::test]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn header_signed_requests_are_held_to_the_session_policy_too() {
    let s3 = session_for_notes("session-policy-header").await;
    let get = |key: &'static str| s3.get_object().bucket("cv-transfers").key(key).send();
    get("preview/notes.txt")
        .await
        .expect("inside the session policy");
    let err = get("preview/photo.png").await.unwrap_err();
    assert_eq!(s3_code(&err), Some("AccessDenied"));
}

#[tokio::test]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn cors_follows_the_buckets_rule_for_crossviews_origin_and_refuses_other_origins() {
    let object = format!("{}/cv-transfers/preview/notes.txt", env("AWS_ENDPOINT_URL"));
    let crossview = "http://127.0.0.1:3000";
    let preflight = |origin: &'static str| {
        let object = object.clone();
        async move {
            let headers = [
                ("Origin", origin),
                ("Access-Control-Request-Method", "PUT"),
                ("Access-Control-Request-Headers", "content-type"),
            ];
            http("OPTIONS", &object, &headers).await
        }
    };
    let allowed = preflight(crossview).await;
    assert_eq!(allowed.status, 200, "preflights are never signed");
    assert_eq!(
        allowed.header("Access-Control-Allow-Origin"),
        Some(crossview)
    );
    assert_eq!(
        allowed.header("Access-Control-Allow-Methods"),
        Some("GET, PUT, HEAD")
    );
    assert_eq!(allowed.header("Access-Control-Max-Age"), Some("3000"));
    let refused = preflight("https://elsewhere.example").await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.header("Access-Control-Allow-Origin"), None);

    // The answer itself, refusals included, carries the rule's headers for a browser to read.
    let s3 = session_for_notes("presign-cors").await;
    for (key, status) in [("preview/notes.txt", 200), ("preview/photo.png", 403)] {
        let url = presigned_get(&s3, key, minutes(5)).await;
        let answer = http("GET", &url, &[("Origin", crossview)]).await;
        assert_eq!(answer.status, status);
        assert_eq!(
            answer.header("Access-Control-Allow-Origin"),
            Some(crossview)
        );
        assert_eq!(answer.header("Access-Control-Expose-Headers"), Some("ETag"));
    }
}
