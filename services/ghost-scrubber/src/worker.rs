//! Running the scrubber: ghost.captures.v1 → ghost.scrubbed.v1 through the
//! shared worker loop, with configurations followed from ghost.config.v1.

use crate::config_store::ConfigStore;
use crate::service::ScrubHandler;
use ghost_log::{LogError, SharedLog, TopicSpec};
use ghost_model::topics;
use ghost_runtime::{Health, Shutdown, WorkerConfig, WorkerError, run_worker};
use std::sync::Arc;
use std::time::Duration;

/// The consumer group (and `worker` metric label) of the scrubber.
pub const WORKER_NAME: &str = "scrubber";

/// Why the scrubber stopped.
#[derive(Debug, thiserror::Error)]
pub enum ScrubWorkerError {
    #[error("scrubber: {context}: {source}")]
    Log {
        context: &'static str,
        #[source]
        source: LogError,
    },
    #[error(transparent)]
    Worker(#[from] WorkerError),
    #[error("scrubber: {0}")]
    Engine(#[from] crate::ScrubberError),
}

/// Topics the scrubber reads and writes, created if missing.
pub fn topic_specs() -> [TopicSpec; 3] {
    [
        TopicSpec::new(topics::CAPTURES, topics::CAPTURES_PARTITIONS),
        TopicSpec::new(topics::SCRUBBED, topics::CAPTURES_PARTITIONS),
        TopicSpec::new(topics::CONFIG, 1).compacted(),
    ]
}

/// Runs until `shutdown` triggers; the batch in hand is finished and committed.
pub async fn run(
    log: SharedLog,
    shutdown: Shutdown,
    health: Health,
) -> Result<(), ScrubWorkerError> {
    for spec in topic_specs() {
        log.create_topic(&spec)
            .await
            .map_err(|source| ScrubWorkerError::Log {
                context: "creating topics",
                source,
            })?;
    }
    let store = Arc::new(ConfigStore::new()?);
    // Apply every saved configuration before the first capture is scrubbed.
    let end = log
        .end_offset(topics::CONFIG, 0)
        .await
        .map_err(|source| ScrubWorkerError::Log {
            context: "reading the config topic",
            source,
        })?;
    let mut next = 0;
    while next < end {
        let before = next;
        next = store
            .follow_once(&log, next, None)
            .await
            .map_err(|source| ScrubWorkerError::Log {
                context: "loading scrub configurations",
                source,
            })?;
        if next == before {
            break;
        }
    }
    let follower = {
        let (log, store, mut shutdown) = (log.clone(), store.clone(), shutdown.clone());
        tokio::spawn(async move {
            while !shutdown.is_triggered() {
                tokio::select! {
                    r = store.follow_once(&log, next, Some(Duration::from_millis(500))) => match r {
                        Ok(n) => next = n,
                        Err(error) => {
                            tracing::warn!(%error, "following scrub configurations failed; retrying");
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                    },
                    _ = shutdown.triggered() => break,
                }
            }
        })
    };
    let handler = ScrubHandler { store };
    let result = run_worker(
        log,
        WorkerConfig::new(WORKER_NAME, topics::CAPTURES),
        &handler,
        shutdown,
        health,
    )
    .await;
    follower.abort();
    Ok(result?)
}
