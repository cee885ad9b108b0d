//! Publishing a mode change: a record on `ghost.modes.v1` whose barrier is the
//! captures topic's end offsets at the change, so a proxy switching to MOCK
//! waits until its library holds everything recorded before it. The control
//! API and `ghost record`/`ghost replay` both change modes through here.

use ghost_log::{Ack, Durability, LogError, SharedLog};
use ghost_model::Mode;
use ghost_model::ServiceName;
use ghost_schema::{ModeChangeRecord, ModeRecord, PartitionOffsetRecord};
use ghost_topics as topics;

/// Why a mode change was not published.
#[derive(Debug, thiserror::Error)]
pub enum ModeChangeError {
    #[error("{context}: {source}")]
    Log {
        context: &'static str,
        #[source]
        source: LogError,
    },
    #[error("encoding the mode change: {0}")]
    Encode(String),
}

fn record_mode(m: Mode) -> ModeRecord {
    match m {
        Mode::Mock => ModeRecord::Mock,
        Mode::Passthrough => ModeRecord::Passthrough,
        Mode::Learn | Mode::Transitioning => ModeRecord::Learn,
    }
}

/// Appends (synced) a change of `service` (`None`: global) to `mode` by `actor`.
pub async fn publish(
    log: &SharedLog,
    service: Option<&ServiceName>,
    mode: Mode,
    actor: &str,
) -> Result<Ack, ModeChangeError> {
    let err = |context| move |source| ModeChangeError::Log { context, source };
    let spec = log
        .topic(topics::CAPTURES.name())
        .await
        .map_err(err("reading the captures topic"))?;
    let mut barrier = Vec::with_capacity(spec.partitions as usize);
    for p in 0..spec.partitions {
        let end = log
            .end_offset(topics::CAPTURES.name(), p)
            .await
            .map_err(err("reading end offsets"))?;
        barrier.push(PartitionOffsetRecord {
            partition: i32::try_from(p).unwrap_or(i32::MAX),
            offset: i64::try_from(end).unwrap_or(i64::MAX),
        });
    }
    let record = ModeChangeRecord {
        id: uuid::Uuid::now_v7().to_string(),
        service: service.map(|s| s.to_string()),
        mode: record_mode(mode),
        barrier,
        changed_at_us: ghost_model::clock::now_us(),
        actor: actor.to_owned(),
        // The control plane has no tenants of its own yet: its scopes are the
        // default tenant's.
        tenant: ghost_schema::DEFAULT_TENANT.to_owned(),
    };
    let record = topics::MODES
        .record(&record, None)
        .map_err(|e| ModeChangeError::Encode(e.to_string()))?;
    log.append(topics::MODES.name(), record, Durability::Synced)
        .await
        .map_err(err("publishing the mode change"))
}
