//! Against the AWS stand-in in strict mode (scripts/test.sh starts and seeds it): the base
//! identity comes from the standard credential chain and endpoint settings, it may do nothing
//! but assume roles, and the stand-in enforces ExternalIds the way AWS does.

use app::aws::AwsGateway;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run scripts/test.sh"))
}

async fn gateway() -> AwsGateway {
    AwsGateway::from_env(true).await
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
    let code = err
        .as_service_error()
        .and_then(|e| aws_sdk_s3::error::ProvideErrorMetadata::code(e));
    assert_eq!(code, Some("AccessDenied"));
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
