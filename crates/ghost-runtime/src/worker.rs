//! The worker loop shared by every consumer of the log.
//!
//! Order is the guarantee: records are polled, handled, their outputs appended
//! durably (synced), and only then is the group's offset committed. A crash at
//! any point redelivers from the last commit, so sinks must be idempotent (keyed
//! by event id). Nothing is committed for a batch whose outputs are not durable.

use crate::health::{Health, HealthState};
use crate::metric_names::{LAG, RECORDS_TOTAL};
use crate::shutdown::Shutdown;
use crate::span::Handling;
use async_trait::async_trait;
use bytes::Bytes;
use ghost_log::trace::{TRACEPARENT, TraceParent, continue_trace};
use ghost_log::{
    Durability, Header, LogError, Record, SharedLog, StoredRecord, TopicSpec, subscribe,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// A record a handler wants appended to `topic`.
#[derive(Debug, Clone)]
pub struct Output {
    pub topic: String,
    pub record: Record,
}

/// Why a record could not be handled; decides what the loop does with it.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// May succeed later (a sink is down): retried with backoff.
    #[error("transient: {0}")]
    Transient(String),
    /// Can never succeed (undecodable, invalid): sent to the dead-letter topic.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl From<LogError> for HandleError {
    fn from(e: LogError) -> Self {
        if e.is_retryable() {
            HandleError::Transient(e.to_string())
        } else {
            HandleError::Permanent(e.to_string())
        }
    }
}

/// What a worker does with one record. Pure apart from its outputs: the loop
/// makes them durable.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, record: &StoredRecord) -> Result<Vec<Output>, HandleError>;
}

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Worker name: the `worker` metric label and the consumer group.
    pub name: String,
    pub input: String,
    /// Where records that can never be handled go (with the reason in headers).
    pub dead_letter: String,
    pub batch: usize,
    pub poll_wait: Duration,
    /// Attempts for a transient failure before the record is dead-lettered.
    pub max_attempts: u32,
    pub backoff: Duration,
    /// Time allowed to finish the batch in hand after shutdown is triggered.
    pub drain_deadline: Duration,
}

impl WorkerConfig {
    pub fn new(name: &str, input: &str) -> Self {
        Self {
            name: name.to_owned(),
            input: input.to_owned(),
            dead_letter: "ghost.deadletter.v1".to_owned(),
            batch: 512,
            poll_wait: Duration::from_millis(500),
            max_attempts: 5,
            backoff: Duration::from_millis(100),
            drain_deadline: crate::shutdown::DEFAULT_DEADLINE,
        }
    }
}

/// Why a worker stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("worker {worker}: {context}: {source}")]
    Log {
        worker: String,
        context: &'static str,
        #[source]
        source: LogError,
    },
}

fn counter(worker: &str, outcome: &'static str) -> metrics::Counter {
    metrics::counter!(RECORDS_TOTAL, "worker" => worker.to_owned(), "outcome" => outcome)
}

/// Runs `handler` over `config.input` until `shutdown` triggers.
pub async fn run_worker(
    log: SharedLog,
    config: WorkerConfig,
    handler: &dyn Handler,
    mut shutdown: Shutdown,
    health: Health,
) -> Result<(), WorkerError> {
    let err = |context| {
        let worker = config.name.clone();
        move |source| WorkerError::Log {
            worker,
            context,
            source,
        }
    };
    log.create_topic(&TopicSpec::new(config.dead_letter.clone(), 1))
        .await
        .map_err(err("creating the dead-letter topic"))?;
    let mut sub = subscribe(&log, &config.name, &config.input)
        .await
        .map_err(err("joining the consumer group"))?;
    let (ok, retried, dead) = (
        counter(&config.name, "ok"),
        counter(&config.name, "retried"),
        counter(&config.name, "dead_lettered"),
    );
    health.set(HealthState::Running);
    let mut last_lag = tokio::time::Instant::now();
    let mut assigned: Vec<u32> = Vec::new();
    while !shutdown.is_triggered() {
        let batch = tokio::select! {
            b = sub.poll(config.batch, config.poll_wait) => b,
            _ = shutdown.triggered() => break,
        };
        let batch = match batch {
            Ok(b) => b,
            Err(e) if e.is_retryable() => {
                health.set(HealthState::Degraded);
                tracing::warn!(worker = %config.name, error = %e, "poll failed; retrying");
                tokio::time::sleep(config.backoff).await;
                continue;
            }
            Err(e) => return Err(err("polling")(e)),
        };
        // Operators (and the scale-out test) see which partitions this member owns.
        let mut now = sub.assignment();
        now.sort_unstable();
        if now != assigned {
            tracing::info!(worker = %config.name, partitions = ?now, "partitions assigned");
            assigned = now;
        }
        if batch.is_empty() {
            continue;
        }
        // Handle everything in the batch; classify failures here, once.
        let mut outputs: BTreeMap<String, Vec<Record>> = BTreeMap::new();
        let mut next: BTreeMap<u32, u64> = BTreeMap::new();
        for record in &batch {
            let handling = Handling::begin(record);
            let mut attempt = 1;
            let result = loop {
                match handler.handle(record).await {
                    Err(HandleError::Transient(reason)) if attempt < config.max_attempts => {
                        retried.increment(1);
                        tracing::warn!(worker = %config.name, attempt, %reason, "transient failure; retrying");
                        tokio::time::sleep(config.backoff * attempt).await;
                        attempt += 1;
                    }
                    other => break other,
                }
            };
            match result {
                Ok(outs) => {
                    ok.increment(1);
                    for mut o in outs {
                        continue_trace(&mut o.record, Some(&handling.hop));
                        outputs.entry(o.topic).or_default().push(o.record);
                    }
                    handling.end(&config.name, record, &config.input, None);
                }
                Err(e) => {
                    dead.increment(1);
                    tracing::warn!(worker = %config.name, partition = record.partition, offset = record.offset, error = %e, "record dead-lettered");
                    outputs
                        .entry(config.dead_letter.clone())
                        .or_default()
                        .push(dead_letter(&config, record, &e, &handling.hop));
                    handling.end(&config.name, record, &config.input, Some(e.to_string()));
                }
            }
            let n = next.entry(record.partition).or_insert(0);
            *n = (*n).max(record.offset + 1);
        }
        // Make the outputs durable; without that, never commit.
        if !make_durable(&log, &config, outputs, &mut shutdown, &health).await {
            tracing::warn!(worker = %config.name, "outputs not durable before the deadline; exiting without commit");
            break;
        }
        for (partition, offset) in next {
            sub.commit(partition, offset)
                .await
                .map_err(err("committing"))?;
        }
        health.set(HealthState::Running);
        if last_lag.elapsed() > Duration::from_secs(5) {
            report_lag(&log, &config, sub.assignment()).await;
            last_lag = tokio::time::Instant::now();
        }
    }
    // Leave the group promptly so another member takes over the partitions.
    sub.close().await;
    health.set(HealthState::Stopped);
    Ok(())
}

fn dead_letter(
    config: &WorkerConfig,
    record: &StoredRecord,
    e: &HandleError,
    hop: &TraceParent,
) -> Record {
    let mut headers = record.headers.clone();
    // The dead letter is a new hop of the same trace.
    headers.retain(|h| h.name != TRACEPARENT);
    for (name, value) in [
        ("ghost-dlq-worker", config.name.clone()),
        ("ghost-dlq-topic", config.input.clone()),
        ("ghost-dlq-partition", record.partition.to_string()),
        ("ghost-dlq-offset", record.offset.to_string()),
        ("ghost-dlq-reason", e.to_string()),
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

/// Appends every output (synced), retrying transient failures; gives up only
/// when shutdown was triggered and its deadline passed. Returns whether all
/// outputs are durable.
async fn make_durable(
    log: &SharedLog,
    config: &WorkerConfig,
    outputs: BTreeMap<String, Vec<Record>>,
    shutdown: &mut Shutdown,
    health: &Health,
) -> bool {
    let mut deadline: Option<tokio::time::Instant> = None;
    for (topic, records) in outputs {
        let mut pending = records;
        while !pending.is_empty() {
            let results = log
                .append_batch(&topic, pending.clone(), Durability::Synced)
                .await;
            let failed: Vec<Record> = pending
                .into_iter()
                .zip(results)
                .filter_map(|(r, res)| res.err().map(|e| (r, e)))
                .map(|(r, e)| {
                    tracing::warn!(worker = %config.name, %topic, error = %e, "output append failed; retrying");
                    r
                })
                .collect();
            pending = failed;
            if pending.is_empty() {
                break;
            }
            health.set(HealthState::Degraded);
            if shutdown.is_triggered() {
                let d = *deadline
                    .get_or_insert_with(|| tokio::time::Instant::now() + config.drain_deadline);
                if tokio::time::Instant::now() >= d {
                    return false;
                }
            }
            tokio::time::sleep(config.backoff).await;
        }
    }
    true
}

async fn report_lag(log: &SharedLog, config: &WorkerConfig, partitions: Vec<u32>) {
    for p in partitions {
        let (Ok(end), Ok(committed)) = (
            log.end_offset(&config.input, p).await,
            log.committed(&config.name, &config.input, p).await,
        ) else {
            continue;
        };
        let lag = end.saturating_sub(committed.unwrap_or(0));
        metrics::gauge!(LAG, "worker" => config.name.clone(), "partition" => p.to_string())
            .set(lag as f64);
    }
}
