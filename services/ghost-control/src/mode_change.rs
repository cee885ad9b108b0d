//! Publishing a mode change: a record on `ghost.modes.v1` whose barrier is the
//! captures topic's end offsets at the change, so a proxy switching to MOCK
//! waits until its library holds everything recorded before it. The control
//! API and `ghost record`/`ghost replay` both change modes through here.

use bytes::Bytes;
use ghost_log::{Ack, Durability, Header, LogError, Record, SharedLog};
use ghost_model::{Mode, ServiceName, topics};
use ghost_schema::{ModeChangeRecord, ModeRecord, PartitionOffsetRecord};

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
        .topic(topics::CAPTURES)
        .await
        .map_err(err("reading the captures topic"))?;
    let mut barrier = Vec::with_capacity(spec.partitions as usize);
    for p in 0..spec.partitions {
        let end = log
            .end_offset(topics::CAPTURES, p)
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
    };
    let value =
        ghost_schema::encode(&record).map_err(|e| ModeChangeError::Encode(e.to_string()))?;
    let key = topics::mode_scope_key(service.map(ServiceName::as_str));
    log.append(
        topics::MODES,
        Record {
            key: Some(Bytes::from(key)),
            value: Some(Bytes::from(value)),
            headers: vec![Header {
                name: "ghost-schema".to_owned(),
                value: Bytes::from_static(b"dev.ghost.ModeChange"),
            }],
            timestamp_ms: 0,
        },
        Durability::Synced,
    )
    .await
    .map_err(err("publishing the mode change"))
}
