//! The assumption itself, against a mocked STS: what is sent, and how often.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::{
    operation::assume_role::AssumeRoleOutput, primitives::DateTime, types::Credentials,
};
use aws_smithy_mocks::{mock, mock_client, Rule};

use super::*;
use crate::error::AwsProblem;

pub fn mocked_gateway(rules: &[&Rule]) -> AwsGateway {
    let base = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .build();
    AwsGateway::new(base, mock_client!(aws_sdk_sts, rules.iter().copied()), true)
}

/// A gateway whose own STS answers with `rules`, in order, and whose clients on assumed
/// credentials reach an STS that says they belong to `account` (GetCallerIdentity).
pub fn mocked_gateway_in(account: &'static str, rules: &[&Rule]) -> AwsGateway {
    let identity = move |_| {
        let body = format!(
            "<GetCallerIdentityResponse><GetCallerIdentityResult>\
             <Arn>arn:aws:sts::{account}:assumed-role/r/crossview</Arn>\
             <UserId>AROAMOCK:crossview</UserId><Account>{account}</Account>\
             </GetCallerIdentityResult></GetCallerIdentityResponse>"
        );
        http::Response::builder().status(200).body(body).unwrap()
    };
    let base = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .http_client(aws_smithy_http_client::test_util::infallible_client_fn(
            identity,
        ))
        .build();
    AwsGateway::new(base, mock_client!(aws_sdk_sts, rules.iter().copied()), true)
}

pub fn temporary_credentials() -> AssumeRoleOutput {
    let creds = Credentials::builder()
        .access_key_id("mock-temporary-key-id")
        .secret_access_key("mock-secret")
        .session_token("mock-token")
        .expiration(DateTime::from_secs(4_000_000_000))
        .build()
        .unwrap();
    AssumeRoleOutput::builder().credentials(creds).build()
}

#[tokio::test]
async fn one_assume_role_with_the_external_id_and_a_policy_for_one_key() {
    let rule = mock!(aws_sdk_sts::Client::assume_role)
        .match_requests(|req| {
            req.role_arn() == Some("arn:aws:iam::123456789012:role/r")
                && req.external_id() == Some("the-external-id")
                && req.role_session_name() == Some("crossview-user-7")
                && req.duration_seconds() == Some(SESSION_SECONDS)
                && req.policy().is_some_and(|p| {
                    p.contains(r#""Resource":"arn:aws:s3:::photos/a b.jpg""#)
                        && p.contains(r#""Action":["s3:GetObject"]"#)
                })
        })
        .then_output(temporary_credentials);
    let gateway = mocked_gateway(&[&rule]);
    let target = RoleTarget {
        role_arn: "arn:aws:iam::123456789012:role/r",
        external_id: Some("the-external-id"),
        session_name: "crossview-user-7",
        endpoints: Endpoints::default(),
        location: None,
    };
    let scope = Scope::Object {
        bucket: "photos".into(),
        key: "a b.jpg".into(),
        actions: vec![crate::iam::Action::GetObject],
        purpose: crate::audit::Activity::Details,
    };
    let assumed = gateway.assume(target, &scope).await.unwrap();
    assert_eq!(rule.num_calls(), 1);
    // Nothing derived from the credentials leaks through Debug.
    assert!(!format!("{assumed:?}").contains("mock-temporary-key-id"));
}

#[tokio::test]
async fn refusals_are_classified_by_code_not_text() {
    use aws_sdk_sts::{
        error::ErrorMetadata, operation::assume_role::AssumeRoleError,
        types::error::RegionDisabledException,
    };
    let denied = mock!(aws_sdk_sts::Client::assume_role).then_error(|| {
        AssumeRoleError::generic(
            ErrorMetadata::builder()
                .code("AccessDenied")
                .message("anything at all")
                .build(),
        )
    });
    // As the SDK's response parser builds it: the modeled error carries AWS's code.
    let disabled = mock!(aws_sdk_sts::Client::assume_role).then_error(|| {
        let meta = ErrorMetadata::builder()
            .code("RegionDisabledException")
            .build();
        AssumeRoleError::RegionDisabledException(
            RegionDisabledException::builder()
                .message("m")
                .meta(meta)
                .build(),
        )
    });
    // STS's ValidationError is too broad alone: the session limits are told by their message.
    let validation = |message: &'static str| {
        mock!(aws_sdk_sts::Client::assume_role).then_error(move || {
            AssumeRoleError::generic(
                ErrorMetadata::builder()
                    .code("ValidationError")
                    .message(message)
                    .build(),
            )
        })
    };
    let role_max = validation(
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    );
    let chained = validation(
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assuming other roles.",
    );
    let other = validation("1 validation error detected: Value at 'roleArn' failed");
    let target = RoleTarget {
        role_arn: "arn:aws:iam::123456789012:role/r",
        external_id: Some("x"),
        session_name: "s",
        endpoints: Endpoints::default(),
        location: None,
    };
    for (rule, problem) in [
        (&denied, AwsProblem::TrustDenied),
        (&disabled, AwsProblem::RegionDisabled),
        (&role_max, AwsProblem::SessionTooShort),
        (&chained, AwsProblem::SessionTooShort),
        (&other, AwsProblem::Unexpected),
    ] {
        let err = mocked_gateway(&[rule])
            .assume(target, &Scope::Verify)
            .await
            .unwrap_err();
        assert_eq!(err.problem, problem);
        assert_eq!(rule.num_calls(), 1);
    }
}

#[test]
fn bucket_regions_are_remembered_known_or_not_and_forgotten_when_too_many() {
    let aws = mocked_gateway(&[]);
    assert_eq!(aws.known_region("aws", "payroll"), None);
    // Read once and found nowhere: the default region serves it, no need to ask again.
    aws.learn_region("aws", "payroll", None);
    assert_eq!(aws.known_region("aws", "payroll"), Some(None));
    aws.learn_region("aws", "payroll", Some("eu-west-1"));
    assert_eq!(
        aws.known_region("aws", "payroll"),
        Some(Some("eu-west-1".into()))
    );
    // By endpoint: the same name on an S3-compatible store is another bucket.
    assert_eq!(aws.known_region("https://minio.example", "payroll"), None);
    for n in 1..gateway::REGIONS_REMEMBERED {
        aws.learn_region("aws", &format!("bucket-{n}"), None);
    }
    assert!(aws.known_region("aws", "payroll").is_some());
    aws.learn_region("aws", "one-too-many", None);
    assert_eq!(aws.known_region("aws", "payroll"), None);
    assert_eq!(aws.known_region("aws", "one-too-many"), Some(None));
}
