//! The worker host: runs registered workers as tasks, serves their health and
//! metrics, and owns the one shutdown protocol (signal → stop polling → drain
//! the batches in hand → commit → close, all within one deadline).
//!
//! `ghost worker <name>` and `ghost up` both run workers through a host, from
//! one registry of [`Spec`]s, so a worker behaves the same in either.

use crate::admin::{self, Components};
use crate::health::{Health, HealthState};
use crate::shutdown::{Shutdown, ShutdownTrigger};
use ghost_log::SharedLog;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;
use tokio::task::JoinHandle;

/// A worker's error, whatever its crate's error type.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// A running worker.
pub type WorkerFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

/// What a starting worker gets.
#[derive(Clone)]
pub struct Env {
    pub log: SharedLog,
    pub shutdown: Shutdown,
    pub health: Health,
    /// The application role's Postgres URL, in team mode.
    pub postgres: Option<String>,
}

/// An entry of the registry: how to start one worker.
#[derive(Clone, Copy)]
pub struct Spec {
    /// `ghost worker <name>`.
    pub name: &'static str,
    /// One line for `ghost worker --help`.
    pub about: &'static str,
    /// Runs only in team mode (with `--postgres`).
    pub needs_postgres: bool,
    pub start: fn(Env) -> WorkerFuture,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// How a worker ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Drained and committed (or had nothing in hand).
    Drained,
    Failed(String),
    /// Still running at the deadline: aborted, its batch uncommitted.
    Abandoned,
}

/// Why the host could not start.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot serve the admin endpoint on {addr}: {source}")]
    Admin {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Workers running as tasks of this process.
pub struct Host {
    trigger: ShutdownTrigger,
    components: Components,
    tasks: Vec<(&'static str, JoinHandle<Result<(), BoxError>>)>,
    admin: Option<(SocketAddr, JoinHandle<()>)>,
}

impl Host {
    /// Installs the metrics recorder and starts `specs` over `log`; those
    /// that need Postgres only when `postgres` is given.
    pub fn start(log: &SharedLog, specs: &[Spec], postgres: Option<&str>) -> Self {
        ghost_telemetry::metrics::install();
        let (trigger, _) = Shutdown::new();
        let components = Components::default();
        let mut tasks = Vec::with_capacity(specs.len());
        for spec in specs {
            if spec.needs_postgres && postgres.is_none() {
                tracing::debug!(worker = spec.name, "not started: needs --postgres");
                continue;
            }
            let health = Health::default();
            components.add(spec.name, health.clone());
            let run = (spec.start)(Env {
                log: log.clone(),
                shutdown: trigger.subscribe(),
                health: health.clone(),
                postgres: postgres.map(str::to_owned),
            });
            let task = tokio::spawn(async move {
                let result = run.await;
                if result.is_err() {
                    health.set(HealthState::Failed);
                }
                result
            });
            tasks.push((spec.name, task));
        }
        Self {
            trigger,
            components,
            tasks,
            admin: None,
        }
    }

    /// Something else this process runs whose health counts for `/readyz`
    /// (the proxy in `ghost up`).
    pub fn add_component(&self, name: &'static str, health: Health) {
        self.components.add(name, health);
    }

    /// Serves `/healthz`, `/readyz`, `/metrics` (and `/_ghost/metrics`) on
    /// `addr` until shutdown; returns the bound address.
    pub async fn serve_admin(&mut self, addr: SocketAddr) -> Result<SocketAddr, HostError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .and_then(|l| l.local_addr().map(|a| (l, a)))
            .map_err(|source| HostError::Admin { addr, source })?;
        let (listener, bound) = listener;
        let task = tokio::spawn(admin::serve(
            listener,
            self.components.clone(),
            self.trigger.subscribe(),
        ));
        self.admin = Some((bound, task));
        Ok(bound)
    }

    /// Whether every worker (and added component) is running.
    pub fn ready(&self) -> bool {
        self.components.ready()
    }

    /// A flag that follows this host's shutdown.
    pub fn shutdown_flag(&self) -> Shutdown {
        self.trigger.subscribe()
    }

    /// Resolves when a worker stops on its own before shutdown: its name and
    /// why. Never resolves while all run (or when there are none).
    pub async fn stopped_early(&mut self) -> (&'static str, String) {
        if self.tasks.is_empty() {
            return std::future::pending().await;
        }
        let (i, why) = {
            let (result, i) = first_of(self.tasks.iter_mut().map(|(_, t)| t)).await;
            let why = match result {
                Ok(Ok(())) => "stopped without being asked".to_owned(),
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
            };
            (i, why)
        };
        let (name, _) = self.tasks.remove(i);
        (name, why)
    }

    /// Triggers shutdown (the deadline is `within` from now unless one was
    /// set already) and waits for every worker until that deadline.
    pub async fn shutdown(self, within: Duration) -> Vec<(&'static str, Ended)> {
        let deadline = self.trigger.trigger(within);
        let mut out = Vec::with_capacity(self.tasks.len());
        for (name, mut task) in self.tasks {
            let ended = match tokio::time::timeout_at(deadline, &mut task).await {
                Ok(Ok(Ok(()))) => Ended::Drained,
                Ok(Ok(Err(e))) => Ended::Failed(e.to_string()),
                Ok(Err(e)) => Ended::Failed(e.to_string()),
                Err(_) => {
                    task.abort();
                    Ended::Abandoned
                }
            };
            match &ended {
                Ended::Drained => tracing::info!(worker = name, "worker drained"),
                Ended::Failed(error) => tracing::error!(worker = name, %error, "worker failed"),
                Ended::Abandoned => tracing::warn!(
                    worker = name,
                    "worker still draining at the shutdown deadline; abandoned uncommitted"
                ),
            }
            out.push((name, ended));
        }
        if let Some((_, task)) = self.admin {
            let _ = tokio::time::timeout_at(deadline, task).await;
        }
        out
    }
}

/// The output of the first of several futures to finish, with its index.
async fn first_of<F: Future + Unpin>(futs: impl IntoIterator<Item = F>) -> (F::Output, usize) {
    let mut futs: Vec<F> = futs.into_iter().collect();
    std::future::poll_fn(move |cx| {
        for (i, f) in futs.iter_mut().enumerate() {
            if let std::task::Poll::Ready(out) = Pin::new(f).poll(cx) {
                return std::task::Poll::Ready((out, i));
            }
        }
        std::task::Poll::Pending
    })
    .await
}
