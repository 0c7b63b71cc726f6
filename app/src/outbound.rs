//! The HTTP client for the server's own outbound requests (an OpenID provider's discovery and
//! token endpoints; the doctor's presigned probes): rustls with the system's roots, a time limit
//! and a size limit on every answer.

use std::{sync::LazyLock, time::Duration};

use axum::body::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client as HttpClient},
    rt::TokioExecutor,
};

/// The client's HTTP: at most 10 seconds and 1 MiB an answer, redirects not followed.
type Http = HttpClient<HttpsConnector<HttpConnector>, Full<Bytes>>;

static HTTP: LazyLock<Result<Http, String>> = LazyLock::new(|| {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|err| format!("no TLS roots: {err}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(HttpClient::builder(TokioExecutor::new()).build(https))
});

const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
const HTTP_MAX_BYTES: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

pub async fn send(request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, HttpError> {
    let client = HTTP.as_ref().map_err(|err| HttpError(err.clone()))?;
    let (parts, body) = request.into_parts();
    let request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
    let work = async {
        let response = client
            .request(request)
            .await
            .map_err(|err| HttpError(err.to_string()))?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, HTTP_MAX_BYTES)
            .collect()
            .await
            .map_err(|err| HttpError(err.to_string()))?
            .to_bytes();
        Ok(http::Response::from_parts(parts, body.to_vec()))
    };
    tokio::time::timeout(HTTP_TIMEOUT, work)
        .await
        .map_err(|_| HttpError("no answer within 10 seconds".into()))?
}
