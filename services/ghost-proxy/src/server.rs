//! Start-up and the accept loop: HTTP/1.1 and h2c on one listener, graceful
//! shutdown (stop accepting → drain connections → deadline → flush captures).

use crate::config::ProxyConfig;
use crate::error::ProxyError;
use crate::library::Library;
use crate::materializer;
use crate::metrics::Metrics;
use crate::modes::ModeTable;
use crate::publisher::Publisher;
use crate::routes::Routes;
use crate::state::{Materialized, ProxyState};
use arc_swap::ArcSwap;
use ghost_log::{SharedLog, TopicSpec};
use ghost_model::topics;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The topics the proxy reads and writes, created if missing.
pub fn topic_specs() -> [TopicSpec; 3] {
    [
        TopicSpec::new(topics::CAPTURES, topics::CAPTURES_PARTITIONS),
        TopicSpec::new(topics::MODES, 1).compacted(),
        TopicSpec::new(topics::LIBRARY, 1).compacted(),
    ]
}

/// A proxy that is serving.
#[derive(Debug)]
pub struct RunningProxy {
    pub local_addr: SocketAddr,
    pub state: Arc<ProxyState>,
    shutdown: watch::Sender<bool>,
    accept: JoinHandle<()>,
    publisher: JoinHandle<()>,
}

/// Opens topics, loads the library and modes from the log, binds, and serves.
/// Returns once the proxy is ready (the whole log applied).
pub async fn start(config: ProxyConfig, log: SharedLog) -> Result<RunningProxy, ProxyError> {
    let routes = Routes::new(&config.services).map_err(|e| ProxyError::Config(e.to_string()))?;
    for spec in topic_specs() {
        log.create_topic(&spec)
            .await
            .map_err(|source| ProxyError::Log {
                context: "creating topics",
                source,
            })?;
    }
    let partitions = log
        .topic(topics::CAPTURES)
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
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector);
    let listen = config.listen;
    let state = Arc::new(ProxyState {
        config,
        routes,
        library: ArcSwap::from_pointee(Library::default()),
        modes: ArcSwap::from_pointee(ModeTable::default()),
        publisher,
        metrics,
        client,
        log,
        materialized: Mutex::new(Materialized {
            next: vec![0; partitions as usize],
            ..Materialized::default()
        }),
        applied: watch::channel(vec![0; partitions as usize]).0,
        modes_applied: watch::channel(0).0,
        ready: watch::channel(false).0,
    });

    let loaded = std::time::Instant::now();
    materializer::load(&state).await?;
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
    materializer::spawn_tails(&state, shutdown_rx.clone());
    state.ready.send_replace(true);
    let accept = tokio::spawn(accept_loop(listener, state.clone(), shutdown_rx));
    Ok(RunningProxy {
        local_addr,
        state,
        shutdown,
        accept,
        publisher: publisher_task,
    })
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<ProxyState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    builder.http2().timer(TokioTimer::new());
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
        let state = state.clone();
        let svc = service_fn(move |req| crate::service::handle(state.clone(), req));
        let conn = builder
            .serve_connection(TokioIo::new(stream), svc)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(error) = conn.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // The caller bounds this with its deadline.
    graceful.shutdown().await;
}

impl RunningProxy {
    /// Stops accepting, drains open connections until `deadline`, then flushes the
    /// captures still queued to the log.
    pub async fn shutdown(self, deadline: Duration) {
        self.shutdown.send_replace(true);
        let mut accept = self.accept;
        if tokio::time::timeout(deadline, &mut accept).await.is_err() {
            tracing::warn!("connections still open at the shutdown deadline; closing them");
            accept.abort();
        }
        let flushed = tokio::time::timeout(deadline, self.state.publisher.flush()).await;
        if flushed.is_err() {
            tracing::warn!("captures still queued at the shutdown deadline");
        }
        drop(self.state);
        drop(self.publisher);
    }
}
