//! What the server tells its operators: one log line per request (`RequestFacts`, filled in as a
//! request goes and written once at its end by the server's middleware) and Prometheus metrics
//! (`metrics`). Nothing here ever holds a credential, a presigned URL or a share token.

pub mod metrics;
mod s3;

use std::sync::{Arc, Mutex};

pub use s3::S3Timing;

/// The facts of one request, shared between the middleware that logs it and the code that
/// learns them (the session's user, the connection assumed, AWS's request ids). Travels in the
/// request's extensions, so server functions and page rendering reach it through Leptos's
/// context wherever they run.
#[derive(Clone, Default, Debug)]
pub struct RequestFacts(Arc<Mutex<Facts>>);

#[derive(Clone, Default, Debug)]
pub struct Facts {
    pub user_id: Option<i64>,
    pub connection_id: Option<i64>,
    pub aws_request_ids: Vec<String>,
}

impl RequestFacts {
    /// The facts of the request being served, if this runs inside one.
    pub fn current() -> Option<Self> {
        // Borrowed, not `use_context`: that would clone the request's every header to read one
        // extension, twice a browse request.
        leptos::prelude::with_context::<http::request::Parts, _>(|parts| {
            parts.extensions.get::<RequestFacts>().cloned()
        })
        .flatten()
    }

    pub fn update(&self, change: impl FnOnce(&mut Facts)) {
        if let Ok(mut facts) = self.0.lock() {
            change(&mut facts);
        }
    }

    pub fn snapshot(&self) -> Facts {
        self.0.lock().map(|f| f.clone()).unwrap_or_default()
    }

    /// One AWS request id more (at most a few per request; more are not worth a log line).
    pub fn add_aws_request_id(&self, id: &str) {
        self.update(|facts| {
            if facts.aws_request_ids.len() < 8 {
                facts.aws_request_ids.push(id.to_owned());
            }
        });
    }
}
