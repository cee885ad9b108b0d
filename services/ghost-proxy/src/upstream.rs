//! Upstream connections owned by a downstream HTTP/1 connection.
//!
//! An HTTP/1 connection carries one exchange at a time in both directions, so a
//! downstream HTTP/1 connection gets its own upstream connection per upstream
//! (opened on first use, reused while both stay open) and drives it inside its
//! own task ([`with_upstreams`]). A forwarded request, its upstream exchange and
//! the response then never change task or thread and no shared pool is locked
//! per request: the pooled client's checkout, hand-off to a separate connection
//! task and return cost about a tenth of a LEARN request's CPU (measured in
//! docs/performance.md). HTTP/2 downstream connections multiplex concurrent
//! streams and keep using the shared pool.

use crate::routing::ServiceRoute;
use bytes::Bytes;
use http::uri::Authority;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::time::Duration;
use tokio::net::TcpStream;

/// Upstreams one downstream connection keeps open at once; requests for more
/// distinct upstreams on the same connection use the shared pool.
const MAX_UPSTREAMS: usize = 4;

/// How long opening an upstream connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type Driver = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Why a request could not be forwarded on the connection's own upstream link.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LinkError {
    #[error("cannot connect to {authority}: {source}")]
    Connect {
        authority: Authority,
        #[source]
        source: std::io::Error,
    },
    #[error("connecting to {0} timed out")]
    ConnectTimeout(Authority),
    #[error("{0}")]
    Http(#[from] hyper::Error),
}

/// The upstream connections of one downstream connection.
#[derive(Default)]
pub(crate) struct Link {
    state: Mutex<LinkState>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct LinkState {
    /// Idle senders, by upstream. A sender is taken out while its exchange runs.
    idle: Vec<(Authority, http1::SendRequest<Full<Bytes>>)>,
    /// Upstream connections open (idle or busy).
    open: usize,
    /// Connection futures opened since the driver last ran.
    opened: Vec<Driver>,
}

impl Link {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LinkState> {
        // Only this connection's task touches the state; a panic there ended it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this link can take a request for `authority` (else: shared pool).
    pub(crate) fn has_room(&self, authority: &Authority) -> bool {
        let s = self.lock();
        s.open < MAX_UPSTREAMS || s.idle.iter().any(|(a, _)| a == authority)
    }

    /// Sends `req` on this connection's upstream connection to `route`, opening
    /// one if there is none. A request the upstream connection closed before it
    /// was written is retried once on a new connection.
    pub(crate) async fn send(
        &self,
        route: &ServiceRoute,
        req: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, LinkError> {
        let mut req = req;
        loop {
            let (mut sender, fresh) = match self.take_idle(&route.authority) {
                Some(s) => (s, false),
                None => (self.connect(&route.authority).await?, true),
            };
            // The previous response's body has normally been read to its end by
            // now; a reused connection that closed meanwhile is replaced.
            if let Err(error) = sender.ready().await {
                self.closed();
                if fresh {
                    return Err(LinkError::Http(error));
                }
                continue;
            }
            // A reused connection the upstream closes as the request goes out
            // (its keep-alive timeout racing our reuse) fails with no response
            // at all; an idempotent request can then safely go again on a new
            // connection, as HTTP clients do (RFC 9110 §9.2.2).
            let again = (!fresh && is_idempotent(req.method())).then(|| replay(&req));
            match sender.try_send_request(req).await {
                Ok(resp) => {
                    self.lock().idle.push((route.authority.clone(), sender));
                    return Ok(resp);
                }
                Err(mut e) => {
                    self.closed();
                    match (e.take_message(), again) {
                        // Not written: the upstream closed the idle connection.
                        (Some(r), _) if !fresh => req = r,
                        (None, Some(r)) if closed_before_response(e.error()) => {
                            tracing::debug!(authority = %route.authority, "reused upstream connection closed under an idempotent request; retrying on a new one");
                            req = r;
                        }
                        _ => return Err(LinkError::Http(e.into_error())),
                    }
                }
            }
        }
    }

    fn take_idle(&self, authority: &Authority) -> Option<http1::SendRequest<Full<Bytes>>> {
        let mut s = self.lock();
        while let Some(i) = s.idle.iter().position(|(a, _)| a == authority) {
            let (_, sender) = s.idle.swap_remove(i);
            if !sender.is_closed() {
                return Some(sender);
            }
            s.open = s.open.saturating_sub(1);
        }
        None
    }

    fn closed(&self) {
        let mut s = self.lock();
        s.open = s.open.saturating_sub(1);
    }

    async fn connect(
        &self,
        authority: &Authority,
    ) -> Result<http1::SendRequest<Full<Bytes>>, LinkError> {
        let host = crate::routing::bare_host(authority.host());
        let port = authority.port_u16().unwrap_or(80);
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host, port)))
            .await
            .map_err(|_| LinkError::ConnectTimeout(authority.clone()))?
            .map_err(|source| LinkError::Connect {
                authority: authority.clone(),
                source,
            })?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = http1::Builder::new()
            .preserve_header_case(true)
            .handshake(TokioIo::new(stream))
            .await?;
        let authority = authority.clone();
        let driver: Driver = Box::pin(async move {
            if let Err(error) = conn.await {
                tracing::debug!(%error, %authority, "upstream connection ended with an error");
            }
        });
        let mut s = self.lock();
        s.open += 1;
        s.opened.push(driver);
        Ok(sender)
    }
}

/// Runs a downstream connection and the upstream connections its requests open,
/// in one task. Ends when the downstream connection ends (its upstream
/// connections are closed then).
pub(crate) async fn with_upstreams<F: Future>(link: Arc<Link>, conn: F) -> F::Output {
    let mut conn = pin!(conn);
    let mut running: Vec<Driver> = Vec::new();
    poll_fn(|cx| {
        if let Poll::Ready(out) = conn.as_mut().poll(cx) {
            return Poll::Ready(out);
        }
        // Requests open connections only while the downstream connection is being
        // polled (they run inside it), so the new ones are picked up right here.
        running.append(&mut link.lock().opened);
        running.retain_mut(|d| d.as_mut().poll(cx).is_pending());
        Poll::Pending
    })
    .await
}

fn is_idempotent(m: &http::Method) -> bool {
    matches!(
        *m,
        http::Method::GET
            | http::Method::HEAD
            | http::Method::OPTIONS
            | http::Method::TRACE
            | http::Method::PUT
            | http::Method::DELETE
    )
}

/// The connection ended before any response: nothing was answered.
fn closed_before_response(e: &hyper::Error) -> bool {
    e.is_incomplete_message() || e.is_canceled() || e.is_closed()
}

/// A copy of a request to send again (the body is in memory). Extensions are
/// not copied: the retry loses only the original header-name case.
fn replay(req: &Request<Full<Bytes>>) -> Request<Full<Bytes>> {
    let mut out = Request::new(req.body().clone());
    *out.method_mut() = req.method().clone();
    *out.uri_mut() = req.uri().clone();
    *out.version_mut() = req.version();
    *out.headers_mut() = req.headers().clone();
    out
}
