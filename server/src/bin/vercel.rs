//! Crossview as a Vercel Function (the official Rust runtime, `vercel_runtime` 2.x): the same
//! router as the `server` binary, served through the runtime's loop. On Vercel the runtime speaks
//! to the platform over its IPC socket; without one (`VERCEL_DEV_PORT`, as `vercel dev` runs it)
//! it is a plain HTTP server on that port. One instance takes many requests at once (Fluid).
//!
//! The static site is not served here: the Build Output (`scripts/vercel-build.sh`) puts it on
//! Vercel's CDN and routes everything else to this function.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Mutex,
    task::{Context, Poll},
};

use axum::body::{Body, Bytes};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::BodyExt;
use server::start;
use tower::{Service, ServiceExt};
use vercel_runtime::{Error, Request, ResponseBody};

#[tokio::main]
async fn main() -> Result<(), Error> {
    start::logging();
    // Requests reach a function only through Vercel's edge, which sets X-Forwarded-For to the
    // client's address: that is the address rate limits count (unless the operator says else).
    let state = start::state_with_defaults(&[("TRUST_PROXY", "true")]).await?;
    tokio::spawn(server::prune_sessions(state.pool.clone()));
    vercel_runtime::run(Streamed(server::router(state))).await
}

/// The router as the runtime's service. Bodies stream both ways: the runtime's own axum layer
/// buffers every response that is not JSON or an event stream, and the audit export must not
/// be held in memory whole.
#[derive(Clone)]
struct Streamed(axum::Router);

impl Service<(vercel_runtime::AppState, Request)> for Streamed {
    type Response = vercel_runtime::Response<ResponseBody>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, (_, request): (vercel_runtime::AppState, Request)) -> Self::Future {
        let router = self.0.clone();
        Box::pin(async move {
            let request = request.map(Body::new);
            let response = router
                .oneshot(request)
                .await
                .unwrap_or_else(|never: Infallible| match never {});
            Ok(response.map(|body| ResponseBody(SyncBody(Mutex::new(body)).boxed())))
        })
    }
}

/// axum's body is `Send` but not `Sync`, and the runtime's body type wants both. Only one task
/// ever polls a body, through `&mut`, so the mutex is never locked to poll it.
struct SyncBody(Mutex<Body>);

impl HttpBody for SyncBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let body = self
            .get_mut()
            .0
            .get_mut()
            .unwrap_or_else(|e| e.into_inner());
        Pin::new(body).poll_frame(cx).map_err(Error::from)
    }

    fn size_hint(&self) -> SizeHint {
        self.0.lock().map(|b| b.size_hint()).unwrap_or_default()
    }

    fn is_end_stream(&self) -> bool {
        self.0.lock().is_ok_and(|b| b.is_end_stream())
    }
}
