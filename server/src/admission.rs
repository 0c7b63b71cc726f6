//! Who gets served, and for how long: a request is read whole before it may take a share of the
//! server, waits a bounded time for one, and holds it for a bounded time.
//!
//! At most [`IN_FLIGHT`] pages and server functions are served at once. While a 1000-key folder
//! page is served it holds the listing's XML, its decoded copies, the HTML and the compressor's
//! state at once; unbounded, 200 users browsing together took the server to 140 MiB. Two cores
//! render on the order of a hundred such pages a second, so the bound sits well above what keeps
//! them busy while AWS answers. Probes and the site's own files are outside it.
//!
//! A permit is taken only once the request's body is in (`BODY_READ_TIMEOUT_SECS`, else 408):
//! a client that trickles a body holds a socket, never a permit. One client address may hold at
//! most [`PER_CLIENT`] permits and one user [`PER_USER`] requests, so neither can take the whole
//! server. A request that cannot get a permit within [`WAIT`] is answered 503 with
//! `Retry-After`, and one that is not answered within `REQUEST_TIMEOUT_SECS` ends (504 if
//! nothing was sent yet). When every permit has been taken for [`SATURATED`], `/readyz` says so.

use std::{
    collections::HashMap,
    future::Future,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    task::{Context, Poll},
    time::Duration,
};

use app::{
    auth::ssr::{client_address_of, AuthSession},
    config::Config,
};
use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    time::Instant,
};

/// Requests served at once. With 200 users browsing, 16 peaked at 63.5 MiB and 32 at 112 MiB,
/// for the same pages served in the same time (`scripts/bench.sh --compare`, one machine).
pub const IN_FLIGHT: usize = 16;
/// Permits one client address may hold: half, so that one client never takes them all. Behind a
/// proxy without `TRUST_PROXY` every client is the proxy (the start-up warning says so).
pub const PER_CLIENT: usize = IN_FLIGHT / 2;
/// Requests one signed-in user may have in flight, from anywhere. A browser opens at most six
/// connections to a site, so no person reaches it from one browser.
pub const PER_USER: usize = 8;
/// How long a request waits for a permit before it is answered 503.
pub const WAIT: Duration = Duration::from_secs(10);
/// Every permit taken for this long: `/readyz` answers 503, so an orchestrator notices.
pub const SATURATED: Duration = Duration::from_secs(10);
/// The largest request body: a server function's arguments (a delete of 1000 keys of S3's
/// longest, 1,024 bytes, is about 1 MiB). Files never pass through the server.
pub const BODY_MAX: usize = 2 << 20;
const PROXY_WARNING: &str = "requests come from private addresses and TRUST_PROXY is off: \
    behind a proxy or a platform's edge every client has the proxy's address, so they all share \
    one sign-in and request limit; set TRUST_PROXY=true (see the README's Deploy section)";

/// The one route that streams for as long as its client reads: the audit export. It is exempt
/// from the request deadline; a client that stops reading it is cut off by the connection's
/// write pacing (`serve`).
const STREAMED: &str = "/admin/audit/export";

/// The admission state, shared by every clone of the router.
pub struct Admission {
    permits: Arc<Semaphore>,
    clients: Mutex<HashMap<String, Arc<Semaphore>>>,
    users: Mutex<HashMap<i64, usize>>,
    saturated_since: Mutex<Option<Instant>>,
    /// Requests came from private addresses while `TRUST_PROXY` is off: a proxy's, most likely,
    /// and then every client shares one set of counters.
    private_peers: AtomicBool,
    /// [`SATURATED`], but for the tests.
    saturated_after: Duration,
    /// The deadlines and how a client's address is read (`TRUST_PROXY`).
    config: Arc<Config>,
}

impl Admission {
    pub fn new(config: Arc<Config>) -> Arc<Self> {
        Arc::new(Admission {
            permits: Arc::new(Semaphore::new(IN_FLIGHT)),
            clients: Mutex::default(),
            users: Mutex::default(),
            saturated_since: Mutex::default(),
            private_peers: AtomicBool::new(false),
            saturated_after: SATURATED,
            config,
        })
    }

    /// Since when every permit has been taken, if for [`SATURATED`] or longer.
    pub fn saturated_for(&self) -> Option<Duration> {
        let since = (*lock(&self.saturated_since))?;
        Some(since.elapsed()).filter(|took| *took >= self.saturated_after)
    }

    /// What `/readyz` should add to its answer: that requests come from private addresses while
    /// `TRUST_PROXY` is off.
    pub fn proxy_warning(&self) -> Option<&'static str> {
        self.private_peers
            .load(Ordering::Relaxed)
            .then_some(PROXY_WARNING)
    }

    /// Notes a request's peer: from a private address without `TRUST_PROXY`, warned once.
    fn seen(&self, peer: Option<SocketAddr>) {
        let private = peer.is_some_and(|p| match p.ip().to_canonical() {
            // RFC 1918, and carrier-grade NAT's 100.64.0.0/10 (where some platforms' edges are)
            IpAddr::V4(v4) => {
                let [a, b, ..] = v4.octets();
                v4.is_private() || (a == 100 && (b & 0xc0) == 64)
            }
            // unique-local fc00::/7
            IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
        });
        if private && !self.config.trust_proxy && !self.private_peers.swap(true, Ordering::Relaxed)
        {
            tracing::warn!("{PROXY_WARNING}");
        }
    }

    /// The client's permit (at most [`PER_CLIENT`]), then one of the server's, within [`WAIT`].
    async fn take(self: &Arc<Self>, client: String) -> Option<Held> {
        let deadline = Instant::now() + WAIT;
        let own = lock(&self.clients)
            .entry(client.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(PER_CLIENT)))
            .clone();
        let mut held = Held {
            admission: self.clone(),
            client,
            client_permit: None,
            permit: None,
        };
        held.client_permit = Some(
            tokio::time::timeout_at(deadline, own.acquire_owned())
                .await
                .ok()?
                .ok()?,
        );
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                lock(&self.saturated_since).get_or_insert_with(Instant::now);
                tokio::time::timeout_at(deadline, self.permits.clone().acquire_owned())
                    .await
                    .ok()?
                    .ok()?
            }
        };
        if self.permits.available_permits() == 0 {
            lock(&self.saturated_since).get_or_insert_with(Instant::now);
        }
        held.permit = Some(permit);
        Some(held)
    }
}

/// A poisoned lock only means another request panicked while holding it; the maps stay sound.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A request's share of the server, given back when its response's body is dropped.
struct Held {
    admission: Arc<Admission>,
    client: String,
    client_permit: Option<OwnedSemaphorePermit>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Drop for Held {
    fn drop(&mut self) {
        let admission = &self.admission;
        let permit = self.permit.take();
        let released = permit.is_some();
        drop(permit);
        if released && admission.permits.available_permits() > 0 {
            *lock(&admission.saturated_since) = None;
        }
        let mut clients = lock(&admission.clients);
        drop(self.client_permit.take());
        // The client's entry goes once nobody of theirs holds or waits for a permit.
        if clients
            .get(&self.client)
            .is_some_and(|own| Arc::strong_count(own) == 1 && own.available_permits() == PER_CLIENT)
        {
            clients.remove(&self.client);
        }
    }
}

/// Reads the body (bounded in time and size), then waits for a permit and serves the request
/// within its deadline, holding the permit until the response's body has been sent or dropped.
pub async fn admit(
    State(admission): State<Arc<Admission>>,
    request: Request,
    next: Next,
) -> Response {
    let timeouts = admission.config.timeouts;
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > BODY_MAX as u64) {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "the request is too large");
    }
    let body = match tokio::time::timeout(
        timeouts.body_read,
        Limited::new(body, BODY_MAX).collect(),
    )
    .await
    {
        Ok(Ok(body)) => body.to_bytes(),
        Ok(Err(err)) if err.is::<LengthLimitError>() => {
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, "the request is too large")
        }
        Ok(Err(_)) => return refuse(StatusCode::BAD_REQUEST, "the request's body was cut off"),
        Err(_) => {
            return refuse(
                StatusCode::REQUEST_TIMEOUT,
                "the request's body did not arrive in time",
            )
        }
    };
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer);
    admission.seen(peer);
    // Whom the request counts against, as every limit counts clients (an IPv6 one by its /64).
    let client = client_address_of(&admission.config, &parts.headers, peer).unwrap_or_default();
    let streamed = parts.uri.path() == STREAMED;
    let Some(held) = admission.take(client).await else {
        return busy();
    };
    let request = Request::from_parts(parts, Body::from(body));
    let deadline = Instant::now() + timeouts.request;
    let response = match streamed {
        true => next.run(request).await,
        false => match tokio::time::timeout_at(deadline, next.run(request)).await {
            Ok(response) => response,
            Err(_) => {
                return refuse(
                    StatusCode::GATEWAY_TIMEOUT,
                    "the request took too long; try again",
                )
            }
        },
    };
    response.map(|body| {
        Body::new(Admitted {
            body,
            deadline: (!streamed).then(|| Box::pin(tokio::time::sleep_until(deadline))),
            _held: held,
        })
    })
}

/// At most [`PER_USER`] requests of one signed-in user at once; beyond that, 503 at once (a
/// request that waited here would hold a permit while it did).
pub async fn per_user(
    State(admission): State<Arc<Admission>>,
    auth: AuthSession,
    request: Request,
    next: Next,
) -> Response {
    let Some(user) = auth.user.as_ref().map(|u| u.id) else {
        return next.run(request).await;
    };
    {
        let mut users = lock(&admission.users);
        let n = users.entry(user).or_default();
        if *n >= PER_USER {
            return busy();
        }
        *n += 1;
    }
    let counted = Counted { admission, user };
    next.run(request).await.map(|body| {
        Body::new(body.map_frame(move |frame| {
            let _held = &counted;
            frame
        }))
    })
}

/// One of a user's requests in flight, uncounted when its response's body is dropped.
struct Counted {
    admission: Arc<Admission>,
    user: i64,
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut users = lock(&self.admission.users);
        if let Some(n) = users.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                users.remove(&self.user);
            }
        }
    }
}

/// 503 with `Retry-After`: the server (or this client's share of it) is taken.
fn busy() -> Response {
    let mut res = refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        "Crossview is busy; try again in a moment",
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(1));
    res
}

fn refuse(status: StatusCode, message: &'static str) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONNECTION, "close"),
        ],
        message,
    )
        .into_response()
}

/// A response's body holding its request's permit, ended when the request's deadline passes.
struct Admitted {
    body: Body,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    _held: Held,
}

impl HttpBody for Admitted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match this.deadline.as_mut().map(|d| d.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Some(Err(axum::Error::new(
                "the response took longer than REQUEST_TIMEOUT_SECS",
            )))),
            _ => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{middleware, routing::get, Router};
    use tower::ServiceExt;

    fn admission(per_request: Duration) -> Arc<Admission> {
        let seconds = per_request.as_secs().to_string();
        let config = Config::from_lookup(|key| match key {
            "DATABASE_URL" => Some("postgres://unused".into()),
            "SESSION_SECRET" => Some("s".repeat(64)),
            "REQUEST_TIMEOUT_SECS" => Some(seconds.clone()),
            _ => None,
        })
        .unwrap();
        Admission::new(Arc::new(config))
    }

    fn app(admission: &Arc<Admission>) -> Router {
        Router::new()
            .route("/", get(|| async { "page" }))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .layer(middleware::from_fn_with_state(admission.clone(), admit))
    }

    /// A request beyond the client's share waits until a body before it has been dropped.
    #[tokio::test]
    async fn the_permit_is_held_until_the_body_is_dropped() {
        let admission = admission(Duration::from_secs(60));
        let app = app(&admission);
        let mut bodies = Vec::new();
        for _ in 0..PER_CLIENT {
            let res = app.clone().oneshot(Request::new(Body::empty())).await;
            bodies.push(res.unwrap());
        }
        assert_eq!(
            admission.permits.available_permits(),
            IN_FLIGHT - PER_CLIENT
        );
        let next = tokio::spawn(app.oneshot(Request::new(Body::empty())));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!next.is_finished(), "the client's share is taken");
        let first = bodies.pop().unwrap().into_body();
        assert_eq!(&first.collect().await.unwrap().to_bytes()[..], b"page");
        let next = next.await.unwrap().unwrap();
        assert_eq!(next.status(), 200);
        drop((next, bodies));
        assert_eq!(admission.permits.available_permits(), IN_FLIGHT);
        assert!(
            lock(&admission.clients).is_empty(),
            "no entry outlives its requests"
        );
    }

    /// Every permit taken for [`SATURATED`] makes the instance unready, until one is free.
    #[tokio::test]
    async fn saturation_is_reported_after_a_while_and_ends_with_a_free_permit() {
        let mut admission = admission(Duration::from_secs(600));
        Arc::get_mut(&mut admission).unwrap().saturated_after = Duration::from_millis(200);
        let app = app(&admission);
        let mut bodies = Vec::new();
        for client in 0..IN_FLIGHT {
            let mut request = Request::new(Body::empty());
            let peer = SocketAddr::from(([192, 0, 2, client as u8], 4000));
            request.extensions_mut().insert(ConnectInfo(peer));
            bodies.push(app.clone().oneshot(request).await.unwrap());
        }
        assert_eq!(admission.saturated_for(), None, "not for long enough yet");
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(admission.saturated_for().is_some());
        bodies.pop();
        assert_eq!(admission.saturated_for(), None);
    }

    #[tokio::test]
    async fn a_request_past_its_deadline_is_answered_504() {
        let admission = admission(Duration::from_secs(1));
        let res = app(&admission)
            .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(admission.permits.available_permits(), IN_FLIGHT);
    }
}
