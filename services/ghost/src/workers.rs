//! `ghost worker <name>`: one worker as its own process; and the same workers as
//! tasks inside `ghost up`.

use crate::cli::{LogArgs, OtelArgs};
use crate::log::OpenLog;
use anyhow::Context;
use ghost_log::SharedLog;
use ghost_log::embedded::FsyncPolicy;
use ghost_runtime::shutdown::{ShutdownTrigger, Signals};
use ghost_runtime::{Health, Shutdown};
use std::io::Write;
use std::path::PathBuf;
use tokio::task::JoinHandle;

/// Workers running as tasks of this process.
pub struct Workers {
    trigger: ShutdownTrigger,
    tasks: Vec<(&'static str, JoinHandle<anyhow::Result<()>>)>,
}

impl Workers {
    /// Starts the workers `ghost up` runs over its log.
    pub fn start_all(log: &SharedLog) -> Self {
        let (trigger, shutdown) = Shutdown::new();
        let scrub = {
            let log = log.clone();
            tokio::spawn(async move {
                ghost_scrubber::worker::run(log, shutdown, Health::default())
                    .await
                    .context("scrubber worker")
            })
        };
        Self {
            trigger,
            tasks: vec![("scrub", scrub)],
        }
    }

    /// Signal → drain (each worker finishes and commits its batch) → deadline.
    pub async fn stop(self, deadline: std::time::Duration) {
        self.trigger.trigger();
        for (name, task) in self.tasks {
            match tokio::time::timeout(deadline, task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(error))) => {
                    tracing::error!(worker = name, error = %format!("{error:#}"), "worker failed")
                }
                Ok(Err(error)) => tracing::error!(worker = name, %error, "worker task failed"),
                Err(_) => tracing::warn!(worker = name, "worker still draining at the deadline"),
            }
        }
    }
}

/// `ghost worker scrub`.
pub async fn scrub(log_args: LogArgs, otel: OtelArgs, data: PathBuf) -> anyhow::Result<()> {
    crate::up::init_tracing();
    let mut signals = Signals::install();
    let telemetry = crate::telemetry::start(otel.otlp, "ghost-worker-scrub")?;
    let log = OpenLog::open(
        &log_args,
        &data,
        FsyncPolicy::Interval(std::time::Duration::from_millis(200)),
    )
    .await?;
    let (trigger, shutdown) = Shutdown::new();
    let health = Health::default();
    let worker = tokio::spawn(ghost_scrubber::worker::run(log.shared(), shutdown, health));
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "ghost worker scrub running")?;
        out.flush()?;
    }
    let mut worker = worker;
    tokio::select! {
        r = &mut worker => {
            r.context("scrubber task")??;
        }
        _ = signals.recv() => {
            trigger.trigger();
            match tokio::time::timeout(ghost_runtime::shutdown::DEFAULT_DEADLINE, worker).await {
                Ok(r) => r.context("scrubber task")??,
                Err(_) => tracing::warn!("scrubber still draining at the deadline; exiting"),
            }
        }
    }
    let closed = log.close().await;
    crate::telemetry::stop(telemetry).await;
    closed
}
