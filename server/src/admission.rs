//! At most [`IN_FLIGHT`] requests for pages and server functions are served at once; the rest
//! wait their turn, in order of arrival.
//!
//! While a 1000-key folder page is served it holds the listing's XML, its decoded copies, the
//! HTML and the compressor's state at once. Unbounded, 200 users browsing together took the
//! server to 140 MiB; with a bound, the peak is the bound's worth of pages, and a request that
//! waits holds only its headers. Two cores render on the order of a hundred such pages a second,
//! so the bound sits well above what keeps them busy while AWS answers: a request waits only
//! when the machine is saturated anyway. Probes and the site's own files are outside it.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use http_body_util::BodyExt;
use tokio::sync::Semaphore;

/// Requests served at once. With 200 users browsing, 16 peaked at 63.5 MiB and 32 at 112 MiB,
/// for the same pages served in the same time (`scripts/bench.sh --compare`, one machine).
pub const IN_FLIGHT: usize = 16;

/// The permits, shared by every clone of the router.
pub fn permits() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(IN_FLIGHT))
}

/// Serves `request` once a permit is free, and keeps the permit until the response's body has
/// been sent: pages stream, and most of their memory is held while they do.
pub async fn admit(
    State(permits): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    let Ok(permit) = permits.acquire_owned().await else {
        // Only a closed semaphore refuses, and this one is never closed.
        return next.run(request).await;
    };
    next.run(request).await.map(|body| {
        // The permit goes with the body and is released when the body is dropped.
        Body::new(body.map_frame(move |frame| {
            let _held = &permit;
            frame
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{middleware, routing::get, Router};
    use tower::ServiceExt;

    /// A request beyond the bound waits until a body before it has been dropped.
    #[tokio::test]
    async fn the_permit_is_held_until_the_body_is_dropped() {
        let permits = Arc::new(Semaphore::new(1));
        let app = Router::new()
            .route("/", get(|| async { "page" }))
            .layer(middleware::from_fn_with_state(permits.clone(), admit));
        let first = app
            .clone()
            .oneshot(Request::new(Body::empty()))
            .await
            .unwrap();
        assert_eq!(
            permits.available_permits(),
            0,
            "the first body still holds it"
        );
        let second = tokio::spawn(app.oneshot(Request::new(Body::empty())));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!second.is_finished(), "the second waits for the first body");
        let bytes = first.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"page");
        let second = second.await.unwrap().unwrap();
        assert_eq!(second.status(), 200);
        drop(second);
        assert_eq!(permits.available_permits(), 1);
    }
}
