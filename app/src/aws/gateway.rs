//! Crossview's own AWS identity and the one AssumeRole every request makes.
//!
//! The base configuration (Crossview's own credentials from the standard chain, region,
//! endpoint, and the HTTP client with its connection pool) is built once at start. Each request
//! that touches a connection calls [`AwsGateway::assume`] once and gets clients that carry that
//! request's temporary credentials only; they are dropped with the request and never stored.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, RwLock},
    time::SystemTime,
};

use aws_config::{timeout::TimeoutConfig, BehaviorVersion, SdkConfig};
use aws_sdk_sts::{
    error::{ProvideErrorMetadata, SdkError},
    operation::RequestId,
};
use tokio::sync::OnceCell;

use super::{endpoint, Scope};
use crate::{
    config::Config,
    error::AwsProblem,
    iam::Reach,
    telemetry::{RequestFacts, S3Timing},
};

/// Lifetime of assumed credentials: AWS's minimum, since each serves one request.
pub const SESSION_SECONDS: i32 = 900;

#[derive(Clone)]
pub struct AwsGateway {
    base: SdkConfig,
    sts: aws_sdk_sts::Client,
    s3_force_path_style: bool,
    /// Crossview's own ARN: not a secret, so it may be remembered.
    principal: Arc<OnceCell<String>>,
    /// Buckets' regions as this process last read or learnt them, by (S3 endpoint, bucket),
    /// `None` where none is known (the default region serves): what Postgres keeps for every
    /// instance, remembered here so that a page does not ask for it again.
    regions: Arc<RwLock<Regions>>,
}

/// A bucket's region (if known) by S3 endpoint and bucket name.
type Regions = HashMap<(String, String), Option<String>>;

/// The most bucket regions a process remembers before starting over (each a few dozen bytes).
pub(crate) const REGIONS_REMEMBERED: usize = 10_000;

impl fmt::Debug for AwsGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsGateway")
            .field("region", &self.base.region())
            .field("s3_force_path_style", &self.s3_force_path_style)
            .finish_non_exhaustive()
    }
}

/// The role to assume. `external_id` is `None` only for verification's negative check.
#[derive(Clone, Copy, Debug)]
pub struct RoleTarget<'a> {
    pub role_arn: &'a str,
    pub external_id: Option<&'a str>,
    /// `crossview-user-<id>`: the customer's CloudTrail shows who acted.
    pub session_name: &'a str,
    /// An S3-compatible store's own endpoints; `None` means AWS.
    pub endpoints: Endpoints<'a>,
    /// On a connection restricted to locations, the one this assumption is fenced to.
    pub location: Option<&'a Reach>,
}

/// A connection's custom endpoints (MinIO, Ceph RGW); both `None` for AWS itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct Endpoints<'a> {
    pub s3: Option<&'a str>,
    pub sts: Option<&'a str>,
}

/// One request's temporary credentials and what is needed to build clients on them. Not
/// `Clone`, never stored: dropped with the request.
pub struct Assumed {
    base: SdkConfig,
    credentials: aws_sdk_s3::config::Credentials,
    s3_endpoint: Option<String>,
    sts_endpoint: Option<String>,
    s3_force_path_style: bool,
    pub request_id: Option<String>,
}

impl Assumed {
    /// An S3 client on these credentials, in `region` (a bucket's own) or the default one.
    /// Building it is cheap: it shares the base configuration's HTTP client and pool.
    pub fn s3(&self, region: Option<&str>) -> aws_sdk_s3::Client {
        let mut config = aws_sdk_s3::config::Builder::from(&self.base)
            .credentials_provider(self.credentials.clone())
            .force_path_style(self.s3_force_path_style || self.s3_endpoint.is_some());
        if let Some(region) = region {
            config = config.region(aws_config::Region::new(region.to_owned()));
        }
        if let Some(endpoint) = &self.s3_endpoint {
            config = config.endpoint_url(endpoint);
        }
        let timing = S3Timing {
            facts: RequestFacts::current(),
        };
        aws_sdk_s3::Client::from_conf(config.interceptor(timing).build())
    }

    /// An STS client on these credentials (verification asks it who they belong to).
    pub fn sts(&self) -> aws_sdk_sts::Client {
        let mut config = aws_sdk_sts::config::Builder::from(&self.base)
            .credentials_provider(self.credentials.clone());
        if let Some(endpoint) = &self.sts_endpoint {
            config = config.endpoint_url(endpoint);
        }
        aws_sdk_sts::Client::from_conf(config.build())
    }

    /// A KMS client on these credentials, in `region` (a key's own) or the default one: the
    /// doctor asks whether the role may use an SSE-KMS bucket's key.
    pub fn kms(&self, region: Option<&str>) -> aws_sdk_kms::Client {
        let mut config = aws_sdk_kms::config::Builder::from(&self.base)
            .credentials_provider(self.credentials.clone());
        if let Some(region) = region {
            config = config.region(aws_config::Region::new(region.to_owned()));
        }
        aws_sdk_kms::Client::from_conf(config.build())
    }

    /// The S3 endpoint this connection uses, as the key of the bucket-region cache.
    pub fn s3_endpoint_key(&self) -> &str {
        self.s3_endpoint.as_deref().unwrap_or("aws")
    }

    /// Whether this is AWS itself (regions matter) rather than an S3-compatible store.
    pub fn is_aws(&self) -> bool {
        self.s3_endpoint.is_none()
    }
}

impl fmt::Debug for Assumed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Assumed")
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// A failed call, classified, with AWS's request id for the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsFailure {
    pub problem: AwsProblem,
    pub request_id: Option<String>,
}

impl AwsGateway {
    /// Loads the standard credential chain (env, profile/SSO, web identity, container or
    /// instance role) and honours `AWS_ENDPOINT_URL` and its per-service variants. Every call
    /// made through it is bounded by the configured connect and operation timeouts.
    pub async fn from_env(config: &Config) -> Self {
        Self::load(config, aws_config::defaults(BehaviorVersion::latest())).await
    }

    /// [`AwsGateway::from_env`] from a loader the caller may have pointed elsewhere.
    pub async fn load(config: &Config, loader: aws_config::ConfigLoader) -> Self {
        // One HTTP client (one connection pool) in the shared configuration: without it every
        // client built per request would make its own pool and open new connections.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .build_with_resolver(endpoint::VettedResolver::new(
                &config.custom_endpoint_hosts,
                endpoint::SystemDns,
            ));
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(config.aws_connect_timeout)
            // The whole call, retries included: a tarpit cannot hold a request for longer.
            .operation_timeout(config.aws_timeout)
            .build();
        let base = loader
            .http_client(http)
            .timeout_config(timeouts)
            .load()
            .await;
        let sts = aws_sdk_sts::Client::new(&base);
        Self::new(base, sts, config.s3_force_path_style)
    }

    /// `sts` is the client for Crossview's own identity (tests hand in a mocked one).
    pub fn new(base: SdkConfig, sts: aws_sdk_sts::Client, s3_force_path_style: bool) -> Self {
        AwsGateway {
            base,
            sts,
            s3_force_path_style,
            principal: Arc::default(),
            regions: Arc::default(),
        }
    }

    /// What this process remembers of `bucket`'s region on the S3 `endpoint`: nothing yet
    /// (`None`), or the region if one is known.
    pub fn known_region(&self, endpoint: &str, bucket: &str) -> Option<Option<String>> {
        let regions = self.regions.read().unwrap_or_else(|e| e.into_inner());
        regions
            .get(&(endpoint.to_owned(), bucket.to_owned()))
            .cloned()
    }

    /// Remembers `bucket`'s region, or that none is known. Remembered wrongly (a region another
    /// instance learnt since, a bucket made again elsewhere), it costs one redirected call,
    /// which corrects it.
    pub fn learn_region(&self, endpoint: &str, bucket: &str, region: Option<&str>) {
        let mut regions = self.regions.write().unwrap_or_else(|e| e.into_inner());
        if regions.len() >= REGIONS_REMEMBERED {
            regions.clear();
        }
        regions.insert(
            (endpoint.to_owned(), bucket.to_owned()),
            region.map(str::to_owned),
        );
    }

    pub fn base_config(&self) -> &SdkConfig {
        &self.base
    }

    /// Crossview's own principal, the one customers' trust policies name.
    pub async fn own_principal_arn(&self) -> Result<String, AwsFailure> {
        self.principal
            .get_or_try_init(|| async {
                let out = self
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(failure)?;
                Ok(out.arn.unwrap_or_default())
            })
            .await
            .cloned()
    }

    /// One AssumeRole, narrowed to `scope`, and clients built on its credentials. The shared
    /// configuration (and so the HTTP connection pool) is reused; only the credentials differ.
    pub async fn assume(
        &self,
        target: RoleTarget<'_>,
        scope: &Scope,
    ) -> Result<Assumed, AwsFailure> {
        let partition = target.role_arn.split(':').nth(1).unwrap_or("aws");
        let sts = match target.endpoints.sts {
            // Crossview's own identity, sent to the store's STS; the HTTP client stays shared.
            Some(endpoint) => aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(&self.base)
                    .endpoint_url(endpoint)
                    .build(),
            ),
            None => self.sts.clone(),
        };
        let out = sts
            .assume_role()
            .role_arn(target.role_arn)
            .role_session_name(target.session_name)
            .set_external_id(target.external_id.map(str::to_owned))
            .policy(scope.session_policy(partition, target.location))
            .duration_seconds(scope.session_seconds())
            .send()
            .await
            .map_err(failure)?;
        let request_id = out.request_id().map(str::to_owned);
        let creds = out.credentials.ok_or(AwsFailure {
            problem: AwsProblem::Unexpected,
            request_id: request_id.clone(),
        })?;
        let expiry = SystemTime::try_from(creds.expiration).ok();
        let credentials = aws_sdk_s3::config::Credentials::new(
            creds.access_key_id,
            creds.secret_access_key,
            Some(creds.session_token),
            expiry,
            "crossview-assumed-role",
        );
        Ok(Assumed {
            base: self.base.clone(),
            credentials,
            s3_endpoint: target.endpoints.s3.map(str::to_owned),
            sts_endpoint: target.endpoints.sts.map(str::to_owned),
            s3_force_path_style: self.s3_force_path_style,
            request_id,
        })
    }
}

/// Classifies an SDK error by transport outcome and AWS error code, never by message text.
pub fn failure<E, R>(err: SdkError<E, R>) -> AwsFailure
where
    E: ProvideErrorMetadata + fmt::Debug,
    R: fmt::Debug,
    SdkError<E, R>: RequestId,
{
    let request_id = err.request_id().map(str::to_owned);
    let problem = match &err {
        SdkError::TimeoutError(_) => AwsProblem::TimedOut,
        SdkError::DispatchFailure(dispatch) if dispatch.is_timeout() => AwsProblem::TimedOut,
        SdkError::DispatchFailure(_) => AwsProblem::Unreachable,
        SdkError::ServiceError(service) => match service.err().code() {
            Some("AccessDenied" | "AccessDeniedException") => AwsProblem::TrustDenied,
            Some("Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "SlowDown") => {
                AwsProblem::Throttled
            }
            Some("RegionDisabledException") => AwsProblem::RegionDisabled,
            // The role's MaxSessionDuration (or the 1-hour limit on role chaining) is shorter
            // than the DurationSeconds a presigned URL needs.
            Some("ValidationError")
                if service
                    .err()
                    .message()
                    .is_some_and(|m| m.contains("DurationSeconds")) =>
            {
                AwsProblem::SessionTooShort
            }
            Some(
                "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
                | "ExpiredToken"
                | "UnrecognizedClientException",
            ) => AwsProblem::OwnIdentity,
            _ => AwsProblem::Unexpected,
        },
        _ => AwsProblem::Unexpected,
    };
    if matches!(problem, AwsProblem::Unexpected | AwsProblem::OwnIdentity) {
        // Logged for operators; the SDK's error text never reaches the page.
        tracing::warn!(request_id = ?request_id, "AWS call failed: {err:?}");
    }
    AwsFailure {
        problem,
        request_id,
    }
}
