//! Running the scrubber: ghost.captures.v1 → ghost.scrubbed.v1 on the worker
//! platform, with rule sets followed from ghost.config.v1.

use crate::config_store::ConfigStore;
use crate::handler::ScrubWorker;
use ghost_log::{LogError, SharedLog};
use ghost_topics::{self as topics, TopicError};
use ghost_worker::{Health, Shutdown, TableFollower, WorkerConfig, WorkerError};
use std::sync::Arc;

pub use crate::handler::WORKER_NAME;

/// Why the scrubber stopped.
#[derive(Debug, thiserror::Error)]
pub enum ScrubWorkerError {
    #[error("scrubber: {context}: {source}")]
    Log {
        context: &'static str,
        #[source]
        source: LogError,
    },
    #[error("scrubber: {0}")]
    Topic(#[from] TopicError),
    #[error(transparent)]
    Worker(#[from] WorkerError),
    #[error("scrubber: {0}")]
    Engine(#[from] ghost_scrub::ScrubberError),
}

/// Runs until `shutdown` triggers; the batch in hand is finished and committed
/// if that can be done before the shutdown deadline.
pub async fn run(
    log: SharedLog,
    shutdown: Shutdown,
    health: Health,
) -> Result<(), ScrubWorkerError> {
    topics::CONFIG.ensure(&*log).await?;
    topics::SCRUBBED.ensure(&*log).await?;
    let store = Arc::new(ConfigStore::new()?);
    // Apply every saved rule set before the first capture is scrubbed.
    let mut configs = TableFollower::open(log.clone(), topics::CONFIG)
        .await
        .map_err(|source| ScrubWorkerError::Log {
            context: "opening the config topic",
            source,
        })?;
    let apply = {
        let store = store.clone();
        move |batch: ghost_worker::Batch<ghost_schema::ScrubConfigRecord>| {
            for e in batch.entries {
                store.apply(&e.value);
            }
        }
    };
    let mut load = apply.clone();
    configs
        .catch_up(&mut load)
        .await
        .map_err(|source| ScrubWorkerError::Log {
            context: "loading scrub configurations",
            source,
        })?;
    let follower = tokio::spawn(configs.run(shutdown.clone(), apply));
    let worker = ScrubWorker { store };
    let result = ghost_worker::run(log, &worker, WorkerConfig::default(), shutdown, health).await;
    follower.abort();
    Ok(result?)
}
