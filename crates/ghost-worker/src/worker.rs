//! The worker loop every consumer of the log runs on.
//!
//! Order is the guarantee: a batch is polled, decoded, handled, its outputs
//! appended durably (synced), and only then is the group's offset committed.
//! A crash at any point redelivers from the last commit, so sinks must be
//! idempotent (keyed by event id).
//!
//! Failures are classified once, here:
//! - a record that is not a `T` (undecodable, a tombstone) or that the worker
//!   rejects can never be handled: it goes to the dead-letter topic with the
//!   reason, and the partition moves on;
//! - a [`Transient`] failure (a store or the log is down) pauses this member:
//!   the same batch is retried with exponential backoff, health reports
//!   Degraded, nothing is committed and nothing is dead-lettered, however long
//!   the outage lasts.

use crate::durable::{dead_letter, make_durable};
use crate::health::{Health, HealthState};
use crate::metric_names::{BATCH_RETRIES_TOTAL, LAG, RECORDS_TOTAL};
use crate::shutdown::Shutdown;
use crate::span::Handling;
use async_trait::async_trait;
use ghost_log::trace::TraceParent;
use ghost_log::{LogError, Record, SharedLog, StoredRecord, subscribe};
use ghost_schema::Contract;
use ghost_topics::{DEAD_LETTER, Topic, TopicError};
use std::collections::BTreeMap;
use std::time::Duration;

/// One decoded input record.
#[derive(Debug, Clone)]
pub struct Input<T> {
    pub value: T,
    /// The record as stored (partition, offset, key, headers).
    pub record: StoredRecord,
    /// The span handling this record: outputs built from it continue it
    /// (`Topic::record(&out, Some(&input.hop))`), so a capture's hops form one trace.
    pub hop: TraceParent,
}

/// A record to append to `topic` once the batch is handled.
#[derive(Debug, Clone)]
pub struct Output {
    pub topic: &'static str,
    pub record: Record,
}

/// An input the worker can never handle (by its index in the batch).
#[derive(Debug, Clone)]
pub struct Rejected {
    pub index: usize,
    pub reason: String,
}

/// What handling a batch produced.
#[derive(Debug, Default, Clone)]
pub struct Handled {
    pub outputs: Vec<Output>,
    pub rejected: Vec<Rejected>,
}

/// The batch could not be handled now but may be later (a store is down).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Transient(pub String);

impl From<LogError> for Transient {
    fn from(e: LogError) -> Self {
        Transient(e.to_string())
    }
}

/// A worker: a typed input topic and what to do with a batch of it. A
/// transform returns outputs for the log; a sink writes to its own store
/// inside `handle_batch` (in one transaction, idempotently) and returns none.
#[async_trait]
pub trait Worker: Send + Sync + 'static {
    type Input: Contract + Send + Sync + 'static;

    /// The consumer group and the `worker` metric label.
    fn name(&self) -> &'static str;

    fn input(&self) -> Topic<Self::Input>;

    /// Handles a batch in offset order per partition. Must not keep partial
    /// effects of a batch it fails with [`Transient`]: the same batch comes again.
    async fn handle_batch(&self, batch: &[Input<Self::Input>]) -> Result<Handled, Transient>;
}

/// How the loop polls and backs off.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub batch: usize,
    pub poll_wait: Duration,
    /// First wait after a transient failure; doubles up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// How often the log is probed (an end offset, bounded by this too): a
    /// log that does not answer makes the worker Degraded (not ready).
    pub probe_interval: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            batch: 512,
            poll_wait: Duration::from_millis(500),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            probe_interval: Duration::from_secs(2),
        }
    }
}

/// Why a worker stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("worker {worker}: {context}: {source}")]
    Log {
        worker: &'static str,
        context: &'static str,
        #[source]
        source: LogError,
    },
    #[error("worker {worker}: {source}")]
    Topic {
        worker: &'static str,
        #[source]
        source: TopicError,
    },
}

fn counter(worker: &'static str, outcome: &'static str) -> metrics::Counter {
    metrics::counter!(RECORDS_TOTAL, "worker" => worker, "outcome" => outcome)
}

/// Runs `worker` until `shutdown` triggers; the batch in hand is finished and
/// committed if that can be done before the shutdown deadline.
pub async fn run<W: Worker>(
    log: SharedLog,
    worker: &W,
    config: WorkerConfig,
    mut shutdown: Shutdown,
    health: Health,
) -> Result<(), WorkerError> {
    let name = worker.name();
    let input = worker.input();
    let err = |context| {
        move |source| WorkerError::Log {
            worker: name,
            context,
            source,
        }
    };
    let topic_err = |source| WorkerError::Topic {
        worker: name,
        source,
    };
    input.ensure(&*log).await.map_err(topic_err)?;
    DEAD_LETTER.ensure(&*log).await.map_err(topic_err)?;
    let mut sub = subscribe(&log, name, input.name())
        .await
        .map_err(err("joining the consumer group"))?;
    let (ok, retried, dead) = (
        counter(name, "ok"),
        counter(name, "retried"),
        counter(name, "dead_lettered"),
    );
    let batch_retries = metrics::counter!(BATCH_RETRIES_TOTAL, "worker" => name);
    let mut probe = Probe::new(&config);
    health.set(HealthState::Running);
    let mut assigned: Vec<u32> = Vec::new();
    while !shutdown.is_triggered() {
        let polled = tokio::select! {
            b = sub.poll(config.batch, config.poll_wait) => b,
            _ = shutdown.triggered() => break,
        };
        let polled = match polled {
            Ok(b) => b,
            Err(e) if e.is_retryable() => {
                health.set(HealthState::Degraded);
                tracing::warn!(worker = name, error = %e, "poll failed; retrying");
                probe.fail_wait().await;
                continue;
            }
            Err(e) => return Err(err("polling")(e)),
        };
        // Operators (and the scale-out test) see which partitions this member owns.
        let mut now = sub.assignment();
        now.sort_unstable();
        if now != assigned {
            tracing::info!(worker = name, partitions = ?now, "partitions assigned");
            assigned = now;
        }
        if probe.due() {
            let healthy = probe.check(&log, input.name(), name, &assigned).await;
            health.set(if healthy {
                HealthState::Running
            } else {
                HealthState::Degraded
            });
        }
        if polled.is_empty() {
            continue;
        }

        // Decode; what is not a T can never be handled.
        let mut next: BTreeMap<u32, u64> = BTreeMap::new();
        let mut spans = Vec::with_capacity(polled.len());
        let mut inputs = Vec::with_capacity(polled.len());
        let mut outputs: BTreeMap<&'static str, Vec<Record>> = BTreeMap::new();
        for record in polled {
            let n = next.entry(record.partition).or_insert(0);
            *n = (*n).max(record.offset + 1);
            let handling = Handling::begin(&record);
            match input.decode(&record) {
                Ok(value) => {
                    spans.push(handling);
                    inputs.push(Input {
                        value,
                        hop: handling.hop,
                        record,
                    });
                }
                Err(e) => {
                    dead.increment(1);
                    let reason = e.to_string();
                    tracing::warn!(worker = name, %reason, "record dead-lettered");
                    let letter = dead_letter(name, input.name(), &record, &reason, &handling.hop);
                    outputs.entry(DEAD_LETTER.name()).or_default().push(letter);
                    handling.end(name, &record, input.name(), Some(reason));
                }
            }
        }

        // Handle; a transient failure pauses here until it passes or the deadline.
        let mut backoff = config.backoff;
        let handled = loop {
            let attempt = async {
                match shutdown.deadline() {
                    Some(d) => tokio::time::timeout_at(d, worker.handle_batch(&inputs))
                        .await
                        .ok(),
                    None => Some(worker.handle_batch(&inputs).await),
                }
            };
            match attempt.await {
                Some(Ok(h)) => break Some(h),
                Some(Err(Transient(reason))) => {
                    health.set(HealthState::Degraded);
                    retried.increment(inputs.len() as u64);
                    batch_retries.increment(1);
                    tracing::warn!(worker = name, %reason, retry_in = ?backoff, "batch failed transiently; pausing");
                    let wait = tokio::time::sleep(backoff);
                    tokio::select! {
                        _ = wait => {}
                        _ = shutdown.deadline_passed() => break None,
                    }
                    backoff = (backoff * 2).min(config.max_backoff);
                }
                None => break None,
            }
        };
        let Some(handled) = handled else {
            tracing::warn!(
                worker = name,
                "batch not handled before the shutdown deadline; exiting without commit"
            );
            break;
        };
        let mut rejected: BTreeMap<usize, String> = handled
            .rejected
            .into_iter()
            .map(|r| (r.index, r.reason))
            .collect();
        for (i, (input_rec, span)) in inputs.iter().zip(spans).enumerate() {
            match rejected.remove(&i) {
                None => {
                    ok.increment(1);
                    span.end(name, &input_rec.record, input.name(), None);
                }
                Some(reason) => {
                    dead.increment(1);
                    tracing::warn!(worker = name, partition = input_rec.record.partition, offset = input_rec.record.offset, %reason, "record dead-lettered");
                    let letter =
                        dead_letter(name, input.name(), &input_rec.record, &reason, &span.hop);
                    outputs.entry(DEAD_LETTER.name()).or_default().push(letter);
                    span.end(name, &input_rec.record, input.name(), Some(reason));
                }
            }
        }
        for o in handled.outputs {
            outputs.entry(o.topic).or_default().push(o.record);
        }

        // Make the outputs durable; without that, never commit.
        if !make_durable(&log, name, outputs, &mut shutdown, &health, &config).await {
            tracing::warn!(
                worker = name,
                "outputs not durable before the shutdown deadline; exiting without commit"
            );
            break;
        }
        for (partition, offset) in next {
            sub.commit(partition, offset)
                .await
                .map_err(err("committing"))?;
        }
        health.set(HealthState::Running);
    }
    health.set(HealthState::Stopping);
    // Leave the group promptly so another member takes over the partitions.
    sub.close().await;
    health.set(HealthState::Stopped);
    Ok(())
}

/// Periodic liveness probe of the log (a poll that returns nothing cannot
/// tell an idle topic from an unreachable broker), and the lag gauges.
struct Probe {
    interval: Duration,
    last: tokio::time::Instant,
    backoff: Duration,
}

impl Probe {
    fn new(config: &WorkerConfig) -> Self {
        Self {
            interval: config.probe_interval,
            // Probe on the first round.
            last: tokio::time::Instant::now() - config.probe_interval,
            backoff: config.backoff,
        }
    }

    fn due(&self) -> bool {
        self.last.elapsed() >= self.interval
    }

    async fn fail_wait(&self) {
        tokio::time::sleep(self.backoff).await;
    }

    /// Whether the log answered; updates the lag gauges while it does.
    async fn check(
        &mut self,
        log: &SharedLog,
        topic: &str,
        worker: &'static str,
        partitions: &[u32],
    ) -> bool {
        self.last = tokio::time::Instant::now();
        let probe = async {
            let spec = log.topic(topic).await?;
            for p in 0..spec.partitions {
                let end = log.end_offset(topic, p).await?;
                if partitions.contains(&p) {
                    let committed = log.committed(worker, topic, p).await?.unwrap_or(0);
                    metrics::gauge!(LAG, "worker" => worker, "partition" => p.to_string())
                        .set(end.saturating_sub(committed) as f64);
                }
            }
            Ok::<(), LogError>(())
        };
        match tokio::time::timeout(self.interval, probe).await {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                tracing::warn!(worker, %error, "the log did not answer the health probe");
                false
            }
            Err(_) => {
                tracing::warn!(worker, "the log did not answer the health probe in time");
                false
            }
        }
    }
}
