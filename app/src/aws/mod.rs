//! All access to AWS goes through here.
//!
//! The base configuration (credentials from the standard chain, region, endpoint, and the HTTP
//! client with its connection pool) is built once at start. Later, per-request clients are built
//! from it with only their credentials swapped.

use aws_config::{BehaviorVersion, SdkConfig};

#[derive(Clone)]
pub struct AwsGateway {
    base: SdkConfig,
    sts: aws_sdk_sts::Client,
    s3_force_path_style: bool,
}

impl std::fmt::Debug for AwsGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsGateway")
            .field("region", &self.base.region())
            .field("s3_force_path_style", &self.s3_force_path_style)
            .finish_non_exhaustive()
    }
}

impl AwsGateway {
    /// Loads the standard credential chain (env, profile/SSO, web identity, container or
    /// instance role) and honours `AWS_ENDPOINT_URL` and its per-service variants.
    pub async fn from_env(s3_force_path_style: bool) -> Self {
        let base = aws_config::defaults(BehaviorVersion::latest()).load().await;
        Self::from_config(base, s3_force_path_style)
    }

    pub fn from_config(base: SdkConfig, s3_force_path_style: bool) -> Self {
        let sts = aws_sdk_sts::Client::new(&base);
        AwsGateway {
            base,
            sts,
            s3_force_path_style,
        }
    }

    /// Crossview's own principal, the one customers' trust policies name.
    pub async fn own_principal_arn(&self) -> Result<String, aws_sdk_sts::Error> {
        let out = self.sts.get_caller_identity().send().await?;
        Ok(out.arn.unwrap_or_default())
    }

    pub fn base_config(&self) -> &SdkConfig {
        &self.base
    }

    pub fn s3_force_path_style(&self) -> bool {
        self.s3_force_path_style
    }
}
