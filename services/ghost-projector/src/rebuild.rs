//! `ghost rebuild`: empties the projection and projects the topics again from
//! their first records, reporting progress, until it has reached the end
//! offsets the topics had when it started.
//!
//! It consumes under consumer groups of its own (the live projector's
//! positions in the log are untouched) and writes the same rows and offsets as
//! the live projector would, so the result equals the incremental projection
//! and a live projector that resumes afterwards skips what is already there.

use crate::ProjectorError;
use crate::library::LibraryProjector;
use crate::modes::ModesProjector;
use crate::traffic::TrafficProjector;
use ghost_log::SharedLog;
use ghost_store::{Pool, StoreError, pool_error};

use ghost_topics as topics;
use ghost_worker::{Health, Shutdown, WorkerConfig};
use std::time::{Duration, Instant};

/// How a rebuild went.
#[derive(Debug, Clone, Copy)]
pub struct Rebuilt {
    /// Records read from the three topics.
    pub records: u64,
    pub took: Duration,
}

/// Progress: records projected so far, and the total to reach.
pub type Progress<'a> = &'a mut (dyn FnMut(u64, u64) + Send);

async fn end_offsets(log: &SharedLog) -> Result<u64, ghost_log::LogError> {
    let mut total = 0;
    for name in [
        topics::SCRUBBED.name(),
        topics::MODES.name(),
        topics::LIBRARY.name(),
    ] {
        let partitions = match log.topic(name).await {
            Ok(spec) => spec.partitions,
            Err(ghost_log::LogError::UnknownTopic(_)) => continue,
            Err(e) => return Err(e),
        };
        for p in 0..partitions {
            total += log.end_offset(name, p).await?;
        }
    }
    Ok(total)
}

/// Records the rebuild's groups have committed (handled or dead-lettered).
async fn committed(log: &SharedLog, groups: &[(&str, &str)]) -> Result<u64, ghost_log::LogError> {
    let mut done = 0;
    for (group, name) in groups {
        let partitions = match log.topic(name).await {
            Ok(spec) => spec.partitions,
            Err(ghost_log::LogError::UnknownTopic(_)) => continue,
            Err(e) => return Err(e),
        };
        for p in 0..partitions {
            done += log.committed(group, name, p).await?.unwrap_or(0);
        }
    }
    Ok(done)
}

/// Empties the projection (`owner` must be allowed to TRUNCATE it) and
/// projects every topic again; `progress` is called about once a second.
pub async fn rebuild(
    log: SharedLog,
    owner: &Pool,
    progress: Progress<'_>,
) -> Result<Rebuilt, ProjectorError> {
    let started = Instant::now();
    {
        let client = owner.get().await.map_err(pool_error)?;
        client
            .batch_execute("TRUNCATE traffic, services, modes, library_entries, projector_offsets")
            .await
            .map_err(|cause| StoreError::Query {
                context: "emptying the projection",
                cause,
            })?;
    }
    let total = end_offsets(&log).await.map_err(ProjectorError::Log)?;
    // Groups of its own, so it starts from the first record.
    let nonce = format!(
        "{:x}",
        started.elapsed().as_nanos() ^ u128::from(std::process::id())
    );
    let group = |base: &str| -> &'static str {
        Box::leak(format!("{base}-rebuild-{nonce}").into_boxed_str())
    };
    let (traffic_group, modes_group, library_group) = (
        group(crate::traffic::GROUP),
        group(crate::modes::GROUP),
        group(crate::library::GROUP),
    );
    let traffic = TrafficProjector::in_group(owner.clone(), traffic_group);
    let modes = ModesProjector::in_group(owner.clone(), modes_group);
    let library = LibraryProjector::in_group(owner.clone(), library_group);
    let (trigger, shutdown) = Shutdown::new();
    let health = Health::default();
    let config = WorkerConfig {
        batch: 2048,
        ..WorkerConfig::default()
    };
    let groups = [
        (traffic_group, topics::SCRUBBED.name()),
        (modes_group, topics::MODES.name()),
        (library_group, topics::LIBRARY.name()),
    ];
    let workers = async {
        tokio::try_join!(
            ghost_worker::run(
                log.clone(),
                &traffic,
                config.clone(),
                shutdown.clone(),
                health.part()
            ),
            ghost_worker::run(
                log.clone(),
                &modes,
                config.clone(),
                shutdown.clone(),
                health.part()
            ),
            ghost_worker::run(
                log.clone(),
                &library,
                config.clone(),
                shutdown.clone(),
                health.part()
            ),
        )
    };
    let watch = async {
        loop {
            let done = committed(&log, &groups)
                .await
                .map_err(ProjectorError::Log)?;
            progress(done.min(total), total);
            if done >= total {
                return Ok::<(), ProjectorError>(());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    tokio::pin!(workers);
    tokio::select! {
        ran = &mut workers => {
            ran?;
            return Err(ProjectorError::Stopped);
        }
        watched = watch => watched?,
    }
    trigger.trigger(Duration::from_secs(30));
    workers.await?;
    Ok(Rebuilt {
        records: total,
        took: started.elapsed(),
    })
}
