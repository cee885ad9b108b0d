//! Making a batch's outputs durable, and building dead letters.

use crate::health::{Health, HealthState};
use crate::shutdown::Shutdown;
use crate::worker::WorkerConfig;
use bytes::Bytes;
use ghost_log::trace::{TRACEPARENT, TraceParent, continue_trace};
use ghost_log::{Durability, Header, Record, SharedLog, StoredRecord};
use std::collections::BTreeMap;

/// The dead letter of `record`: its key and bytes, its headers, and where it
/// came from and why in `ghost-dlq-*` headers, as a new hop of its trace.
pub(crate) fn dead_letter(
    worker: &str,
    topic: &str,
    record: &StoredRecord,
    reason: &str,
    hop: &TraceParent,
) -> Record {
    let mut headers = record.headers.clone();
    headers.retain(|h| h.name != TRACEPARENT);
    for (name, value) in [
        ("ghost-dlq-worker", worker.to_owned()),
        ("ghost-dlq-topic", topic.to_owned()),
        ("ghost-dlq-partition", record.partition.to_string()),
        ("ghost-dlq-offset", record.offset.to_string()),
        ("ghost-dlq-reason", reason.to_owned()),
    ] {
        headers.push(Header {
            name: name.to_owned(),
            value: Bytes::from(value),
        });
    }
    let mut out = Record {
        key: record.key.clone(),
        value: record.value.clone(),
        headers,
        timestamp_ms: 0,
    };
    continue_trace(&mut out, Some(hop));
    out
}

/// Appends every output (synced), retrying transient failures with backoff;
/// gives up only once the shutdown deadline has passed. Returns whether all
/// outputs are durable.
pub(crate) async fn make_durable(
    log: &SharedLog,
    worker: &'static str,
    outputs: BTreeMap<&'static str, Vec<Record>>,
    shutdown: &mut Shutdown,
    health: &Health,
    config: &WorkerConfig,
) -> bool {
    let mut backoff = config.backoff;
    for (topic, records) in outputs {
        let mut pending = records;
        while !pending.is_empty() {
            let results = log
                .append_batch(topic, pending.clone(), Durability::Synced)
                .await;
            pending = pending
                .into_iter()
                .zip(results)
                .filter_map(|(r, res)| res.err().map(|e| (r, e)))
                .map(|(r, e)| {
                    tracing::warn!(worker, topic, error = %e, "output append failed; retrying");
                    r
                })
                .collect();
            if pending.is_empty() {
                break;
            }
            health.set(HealthState::Degraded);
            if shutdown.expired() {
                return false;
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.deadline_passed() => return false,
            }
            backoff = (backoff * 2).min(config.max_backoff);
        }
    }
    true
}
