//! All access to AWS goes through here: shared plumbing that every capability uses and none
//! owns (server side only).
//!
//! - [`gateway`]: Crossview's own identity, built once at start, and the one AssumeRole call;
//! - [`scope`]: what one request may do, as the session policy that narrows its credentials;
//! - [`access`]: a user's verified connection assumed for one request, audited; the per-key
//!   [`access::Target`] that every server function about one object works on;
//! - [`bucket`]: bucket names and ARNs; [`region`]: finding a bucket's region and calling in it;
//! - [`endpoint`]: custom endpoints, parsed and held to the operator's list of hosts;
//! - [`s3`]: S3 failures classified by what the user can do about them.
//!
//! Each request that touches a connection assumes its role once and gets clients that carry
//! that request's temporary credentials only; they are dropped with the request, never stored.

pub mod access;
pub mod bucket;
pub mod endpoint;
mod gateway;
pub mod region;
mod s3;
mod scope;

pub use gateway::{
    failure, Assumed, AwsFailure, AwsGateway, Endpoints, RoleTarget, SESSION_SECONDS,
};
pub use s3::{region_redirect, s3_failure};
pub use scope::{Scope, MAX_KEY_BYTES, PROBE_KEY};

#[cfg(test)]
pub mod tests;
