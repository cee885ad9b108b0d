//! Start-up and the accept loop: HTTP/1.1 and h2c on one listener, connections
//! handed to the request threads, graceful shutdown (stop accepting → drain
//! connections → deadline → flush captures).

use crate::config::ProxyConfig;
use crate::error::ProxyError;
use crate::intercept::{CertAuthority, InterceptMode};
use crate::library::Library;
use crate::materializer;
use crate::metrics::Metrics;
use crate::modes::ModeTable;
use crate::origins::{AllowHosts, Origins};
use crate::publisher::Publisher;
use crate::request::RequestCtx;
use crate::routing::Routes;
use crate::state::{Materialized, ProxyState};
use crate::threads::Threads;
use arc_swap::ArcSwap;
use ghost_log::SharedLog;
use ghost_topics as topics;
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A proxy that is serving.
#[derive(Debug)]
pub struct RunningProxy {
    pub local_addr: SocketAddr,
    /// The TLS listener's address, while interception is on and it listens.
    pub tls_addr: Option<SocketAddr>,
    pub state: Arc<ProxyState>,
    shutdown: watch::Sender<bool>,
    accept: JoinHandle<Threads>,
    publisher: JoinHandle<()>,
}

/// Opens topics, loads the library and modes from the log, binds, and serves.
/// Returns once the proxy is ready (the whole log applied).
pub async fn start(config: ProxyConfig, log: SharedLog) -> Result<RunningProxy, ProxyError> {
    let routes = Routes::new(&config.services).map_err(|e| ProxyError::Config(e.to_string()))?;
    // The topics the proxy reads and writes.
    topics::CAPTURES.ensure(&*log).await?;
    topics::MODES.ensure(&*log).await?;
    topics::LIBRARY.ensure(&*log).await?;
    let partitions = log
        .topic(topics::CAPTURES.name())
        .await
        .map_err(|source| ProxyError::Log {
            context: "reading the captures topic",
            source,
        })?
        .partitions;
    let metrics = Metrics::new();
    let (publisher, publisher_task) = Publisher::spawn(
        log.clone(),
        config.capture_queue,
        config.redactor.clone(),
        metrics.clone(),
    );
    let listen = config.listen;
    let origins = Origins::new(AllowHosts::new(config.allow_hosts.as_deref(), listen));
    let intercept = config.intercept.clone();
    let ca = match intercept.mode {
        InterceptMode::Off => None,
        mode => match CertAuthority::load(&intercept.ca) {
            Ok(ca) => Some(Arc::new(ca)),
            Err(e) if mode == InterceptMode::Strict => {
                return Err(ProxyError::Config(format!(
                    "TLS interception (strict): {e}"
                )));
            }
            Err(error) => {
                tracing::error!(%error, "TLS interception is off: the CA could not be loaded (--tls-intercept lax keeps plain HTTP serving)");
                None
            }
        },
    };
    let state = Arc::new(ProxyState {
        config,
        routes,
        origins,
        tls_shared: ca
            .as_ref()
            .and_then(|ca| crate::intercept::shared_config(ca.clone()).ok()),
        ca,
        own_ports: std::sync::OnceLock::new(),
        local_addr: std::sync::OnceLock::new(),
        journal: crate::journal::Journal::new(),
        library: ArcSwap::from_pointee(Library::default()),
        modes: ArcSwap::from_pointee(ModeTable::default()),
        publisher,
        metrics,
        log,
        materialized: Mutex::new(Materialized {
            next: vec![0; partitions as usize],
            ..Materialized::default()
        }),
        applied: watch::channel(vec![0; partitions as usize]).0,
        modes_applied: watch::channel(0).0,
        ready: watch::channel(false).0,
        wanted: watch::channel(false).0,
        catch_ups: AtomicUsize::new(0),
    });

    let loaded = std::time::Instant::now();
    let followers = materializer::load(&state).await?;
    tracing::info!(
        recordings = state.library().len(),
        elapsed_ms = loaded.elapsed().as_millis() as u64,
        "library loaded from the log"
    );
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| ProxyError::Bind {
            addr: listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| ProxyError::Bind {
        addr: listen,
        source,
    })?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let _ = state.own_ports.set(vec![local_addr.port()]);
    let _ = state.local_addr.set(local_addr);
    materializer::spawn_tails(&state, followers, shutdown_rx.clone());
    state.ready.send_replace(true);
    let threads = if state.config.threads == 0 {
        Threads::shared(&state, &shutdown_rx)
    } else {
        Threads::spawn(state.config.threads, &state, &shutdown_rx)?
    };
    let tls_addr = match (&state.ca, intercept.tls_listen) {
        (Some(ca), Some(addr)) => match TcpListener::bind(addr).await {
            Ok(l) => {
                let bound = l.local_addr().ok();
                tokio::spawn(tls_accept_loop(
                    l,
                    state.clone(),
                    ca.clone(),
                    shutdown_rx.clone(),
                ));
                bound
            }
            Err(source) if intercept.mode == InterceptMode::Strict => {
                return Err(ProxyError::Bind { addr, source });
            }
            Err(error) => {
                tracing::error!(%error, %addr, "the TLS listener could not bind; plain HTTP keeps serving (--tls-intercept lax)");
                None
            }
        },
        _ => None,
    };
    let accept = tokio::spawn(accept_loop(listener, threads, shutdown_rx));
    Ok(RunningProxy {
        local_addr,
        tls_addr,
        state,
        shutdown,
        accept,
        publisher: publisher_task,
    })
}

async fn accept_loop(
    listener: TcpListener,
    mut threads: Threads,
    mut shutdown: watch::Receiver<bool>,
) -> Threads {
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(error) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        match stream.into_std() {
            Ok(stream) => threads.hand_off(stream).await,
            Err(error) => tracing::warn!(%error, "accepted connection unusable; dropped"),
        }
    }
    threads
}

/// Accepts TLS connections from clients that reach ghost directly by name.
async fn tls_accept_loop(
    listener: TcpListener,
    state: Arc<ProxyState>,
    ca: Arc<CertAuthority>,
    mut shutdown: watch::Receiver<bool>,
) {
    let ctx = Arc::new(RequestCtx {
        state,
        client: crate::threads::upstream_client(),
    });
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(error) => {
                    tracing::warn!(%error, "TLS accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(crate::intercept::serve(
            ctx.clone(),
            stream,
            ca.clone(),
            None,
        ));
    }
}

impl RunningProxy {
    /// Stops accepting, drains open connections, then flushes the captures
    /// still queued to the log, all within `deadline`.
    pub async fn shutdown(self, deadline: Duration) {
        // One deadline for both steps: draining connections, then the queue.
        let until = tokio::time::Instant::now() + deadline;
        self.shutdown.send_replace(true);
        match self.accept.await {
            Ok(threads) => {
                if !threads.drain(deadline).await {
                    tracing::warn!("connections still open at the shutdown deadline; closed them");
                }
            }
            Err(error) => tracing::warn!(%error, "the accept loop failed"),
        }
        let flushed = tokio::time::timeout_at(until, self.state.publisher.flush()).await;
        if flushed.is_err() {
            tracing::warn!("captures still queued at the shutdown deadline");
        }
        drop(self.state);
        drop(self.publisher);
    }
}
