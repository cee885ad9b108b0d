//! The proxy's request threads. Each owns a single-threaded runtime, the
//! connections handed to it and its own upstream connection pool, as in
//! pingora's no-steal runtime: a request, its upstream exchange and its response
//! never leave one thread. With a work-stealing runtime on a small box, idle
//! workers being woken to steal cost more CPU per forwarded request than the
//! forwarding itself (measured in docs/performance.md).
//!
//! One accept loop hands connections out round-robin; a thread whose queue is
//! full is skipped, and when all are full the accept loop waits (backpressure
//! onto the listen backlog).

use crate::error::ProxyError;
use crate::guard::{ConnGuard, Guarded};
use crate::request::{self, RequestCtx, UpstreamClient};
use crate::state::ProxyState;
use crate::upstream::{Link, with_upstreams};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};

/// Connections queued per thread before the accept loop tries another.
const HANDOFF_QUEUE: usize = 256;

/// The running request threads.
#[derive(Debug)]
pub(crate) struct Threads {
    queues: Vec<mpsc::Sender<std::net::TcpStream>>,
    next: usize,
    /// Each resolves once its thread has drained its connections.
    drained: Vec<oneshot::Receiver<()>>,
    /// Turned true at the shutdown deadline: threads drop what is still open.
    abort: watch::Sender<bool>,
}

pub(crate) fn upstream_client() -> UpstreamClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .http1_preserve_header_case(true)
        .build(connector)
}

impl Threads {
    /// Starts `count` request threads (at least one). They stop taking new
    /// connections when `shutdown` turns true and drain the ones they have.
    pub(crate) fn spawn(
        count: usize,
        state: &Arc<ProxyState>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<Self, ProxyError> {
        let (abort, abort_rx) = watch::channel(false);
        let mut queues = Vec::new();
        let mut drained = Vec::new();
        for i in 0..count.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|source| ProxyError::Thread { source })?;
            let (tx, rx) = mpsc::channel(HANDOFF_QUEUE);
            let (done_tx, done_rx) = oneshot::channel();
            let state = state.clone();
            let shutdown = shutdown.clone();
            let mut abort_rx = abort_rx.clone();
            std::thread::Builder::new()
                .name(format!("ghost-proxy-{i}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        tokio::select! {
                            () = serve(rx, state, shutdown) => {}
                            _ = abort_rx.wait_for(|a| *a) => {}
                        }
                    });
                    // Dropping the runtime closes whatever was still open.
                    drop(runtime);
                    let _ = done_tx.send(());
                })
                .map_err(|source| ProxyError::Thread { source })?;
            queues.push(tx);
            drained.push(done_rx);
        }
        Ok(Self {
            queues,
            next: 0,
            drained,
            abort,
        })
    }

    /// Serves every connection on the caller's (work-stealing) runtime instead,
    /// sharing one upstream pool.
    pub(crate) fn shared(state: &Arc<ProxyState>, shutdown: &watch::Receiver<bool>) -> Self {
        let (abort, mut abort_rx) = watch::channel(false);
        let (tx, rx) = mpsc::channel(HANDOFF_QUEUE);
        let (done_tx, done_rx) = oneshot::channel();
        let (state, shutdown) = (state.clone(), shutdown.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = serve(rx, state, shutdown) => {}
                _ = abort_rx.wait_for(|a| *a) => {}
            }
            let _ = done_tx.send(());
        });
        Self {
            queues: vec![tx],
            next: 0,
            drained: vec![done_rx],
            abort,
        }
    }

    /// Hands a connection to the next thread with room, waiting if none has.
    pub(crate) async fn hand_off(&mut self, stream: std::net::TcpStream) {
        let n = self.queues.len();
        let mut stream = stream;
        for _ in 0..n {
            let i = self.next;
            self.next = (self.next + 1) % n;
            match self.queues[i].try_send(stream) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full(s) | mpsc::error::TrySendError::Closed(s)) => {
                    stream = s
                }
            }
        }
        let i = self.next;
        self.next = (self.next + 1) % n;
        // Every thread is busy: wait for this one rather than buffer without bound.
        if self.queues[i].send(stream).await.is_err() {
            tracing::warn!(thread = i, "request thread gone; connection dropped");
        }
    }

    /// Waits until every thread drained its connections, or `deadline` passes
    /// (then the rest are closed). Returns whether all drained in time.
    pub(crate) async fn drain(self, deadline: Duration) -> bool {
        drop(self.queues);
        let until = tokio::time::Instant::now() + deadline;
        let mut pending = Vec::new();
        for mut done in self.drained {
            if tokio::time::timeout_at(until, &mut done).await.is_err() {
                pending.push(done);
            }
        }
        if pending.is_empty() {
            return true;
        }
        self.abort.send_replace(true);
        // Threads exit promptly once aborted; bound the wait regardless.
        let until = tokio::time::Instant::now() + Duration::from_secs(1);
        for done in pending {
            let _ = tokio::time::timeout_at(until, done).await;
        }
        false
    }
}

/// The server side of a downstream connection: HTTP/1.1 or h2c.
fn connection_builder(preserve_header_case: bool) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .preserve_header_case(preserve_header_case);
    builder.http2().timer(TokioTimer::new());
    builder
}

/// One thread's loop: serve every connection handed to it until shutdown, then
/// drain them.
async fn serve(
    mut rx: mpsc::Receiver<std::net::TcpStream>,
    state: Arc<ProxyState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let ctx = Arc::new(RequestCtx {
        state,
        client: upstream_client(),
    });
    let graceful = GracefulShutdown::new();
    let replaying = connection_builder(false);
    // Header names go upstream (and responses come back) in the case they were
    // sent in: some peers, wrongly but really, depend on it. Keeping the case
    // costs an extra map per request (~2% of a MOCK hit's instructions), so
    // connections accepted while every scope is in MOCK skip it.
    let forwarding = connection_builder(true);
    loop {
        let stream = tokio::select! {
            s = rx.recv() => match s {
                Some(s) => s,
                None => break,
            },
            _ = shutdown.wait_for(|s| *s) => break,
        };
        let stream = match TcpStream::from_std(stream) {
            Ok(s) => s,
            Err(error) => {
                tracing::warn!(%error, "connection could not be registered; dropped");
                continue;
            }
        };
        let builder = if ctx.state.modes.load().forwards() {
            &forwarding
        } else {
            &replaying
        };
        let ctx = ctx.clone();
        let link = Link::new();
        let guard = Arc::new(ConnGuard::default());
        let svc = {
            let (link, guard) = (link.clone(), guard.clone());
            service_fn(move |req| request::handle(ctx.clone(), link.clone(), guard.clone(), req))
        };
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(Guarded::new(stream, guard)), svc)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(error) = with_upstreams(link, conn).await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
}
