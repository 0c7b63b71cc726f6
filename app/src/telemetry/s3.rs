//! An interceptor on every S3 client: how long each operation took (retries included) for the
//! metrics, and AWS's request id for the request's log line.

use std::time::Instant;

use aws_sdk_s3::config::{
    interceptors::{BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef},
    ConfigBag, Intercept, RuntimeComponents,
};
use aws_smithy_runtime_api::{box_error::BoxError, client::orchestrator::Metadata};
use aws_smithy_types::config_bag::{Storable, StoreReplace};

use super::{metrics, RequestFacts};

/// Times S3 operations; notes their request ids in `facts` (the request the client serves).
#[derive(Debug)]
pub struct S3Timing {
    pub facts: Option<RequestFacts>,
}

#[derive(Debug, Clone)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

impl Intercept for S3Timing {
    fn name(&self) -> &'static str {
        "S3Timing"
    }

    fn read_before_execution(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(Started(at)), Some(operation)) =
            (cfg.load::<Started>(), cfg.load::<Metadata>())
        {
            metrics::s3_call(operation.name(), at.elapsed());
        }
        let id = context
            .response()
            .and_then(|r| r.headers().get("x-amz-request-id"));
        if let (Some(facts), Some(id)) = (&self.facts, id) {
            facts.add_aws_request_id(id);
        }
        Ok(())
    }
}
