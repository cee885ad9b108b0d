//! Capture publishing: a bounded queue between the request path and the log.
//!
//! LEARN responses never wait for the log: `enqueue` is a `try_send`, and a full
//! queue drops the capture and counts it. With durable captures the response waits
//! for the log's acknowledgement of a synced append instead.

use crate::codec::capture_bytes;
use crate::metrics::{IoOp, Metrics};
use bytes::Bytes;
use ghost_log::trace::TraceParent;
use ghost_log::{Ack, Durability, Header, LogError, Record, SharedLog};
use ghost_model::{Capture, CaptureParts, Redactor, topics};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Header naming the Avro schema of a record's value, for humans and tools.
pub const SCHEMA_HEADER: &str = "ghost-schema";

/// Appends retried before a capture is given up (and counted).
const APPEND_ATTEMPTS: u32 = 3;

enum Job {
    Capture {
        capture: Box<Capture>,
        trace: TraceParent,
        ack: Option<oneshot::Sender<Result<Ack, LogError>>>,
    },
    Flush(oneshot::Sender<()>),
}

/// Handle for publishing captures; cheap to clone (one reference count: every
/// LEARN response body holds one).
#[derive(Clone)]
pub struct Publisher {
    inner: Arc<Inner>,
}

struct Inner {
    tx: mpsc::Sender<Job>,
    redactor: Redactor,
    metrics: Metrics,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher").finish_non_exhaustive()
    }
}

/// Why a durable publish failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the capture publisher has stopped")]
    Stopped,
    #[error("the log refused the capture: {0}")]
    Log(#[from] LogError),
}

impl Publisher {
    /// Starts the publishing task. It ends once every `Publisher` clone is dropped
    /// and the queue is drained.
    pub fn spawn(
        log: SharedLog,
        capacity: usize,
        redactor: Redactor,
        metrics: Metrics,
    ) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let task = tokio::spawn(run(log, rx, metrics.clone()));
        (
            Self {
                inner: Arc::new(Inner {
                    tx,
                    redactor,
                    metrics,
                }),
            },
            task,
        )
    }

    /// Queues a capture without waiting; a full queue drops it (counted).
    /// `trace` is the span the capture's record carries.
    pub fn enqueue(&self, parts: CaptureParts, trace: TraceParent) {
        let Inner {
            tx,
            redactor,
            metrics,
        } = &*self.inner;
        let capture = redactor.capture(parts);
        let job = Job::Capture {
            capture: Box::new(capture),
            trace,
            ack: None,
        };
        if tx.try_send(job).is_ok() {
            metrics.captures_pending.increment(1.0);
        } else {
            metrics.captures_dropped.increment(1);
            metrics.io_error(IoOp::CaptureEnqueue);
        }
    }

    /// Publishes a capture and waits until the log has synced it.
    pub async fn publish_durable(
        &self,
        parts: CaptureParts,
        trace: TraceParent,
    ) -> Result<Ack, PublishError> {
        let capture = self.inner.redactor.capture(parts);
        let (tx, rx) = oneshot::channel();
        self.inner
            .tx
            .send(Job::Capture {
                capture: Box::new(capture),
                trace,
                ack: Some(tx),
            })
            .await
            .map_err(|_| PublishError::Stopped)?;
        self.inner.metrics.captures_pending.increment(1.0);
        Ok(rx.await.map_err(|_| PublishError::Stopped)??)
    }

    /// Waits until every capture queued before this call has been appended (or
    /// given up on).
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.inner.tx.send(Job::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// How long a partial batch waits for more captures before it is appended. One
/// log round trip then carries many captures instead of one (fewer wake-ups and
/// thread hand-offs per request under load). Never applied while a durable
/// capture's response is waiting.
const LINGER: std::time::Duration = std::time::Duration::from_millis(2);

async fn run(log: SharedLog, mut rx: mpsc::Receiver<Job>, metrics: Metrics) {
    let mut jobs = Vec::with_capacity(BATCH);
    let mut group = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut jobs, BATCH).await > 0 {
        let urgent = jobs
            .iter()
            .any(|j| matches!(j, Job::Flush(_) | Job::Capture { ack: Some(_), .. }));
        if !urgent && jobs.len() < BATCH {
            tokio::time::sleep(LINGER).await;
            while jobs.len() < BATCH {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
        }
        for job in jobs.drain(..) {
            match job {
                Job::Capture {
                    capture,
                    trace,
                    ack,
                } => group.push((capture, trace, ack)),
                Job::Flush(done) => {
                    // Everything queued before the flush is appended before it answers.
                    publish_group(&log, &mut group, &metrics).await;
                    let _ = done.send(());
                }
            }
        }
        publish_group(&log, &mut group, &metrics).await;
    }
}

/// Most captures appended in one pipelined batch (one group commit).
const BATCH: usize = 512;

type Pending = (
    Box<Capture>,
    TraceParent,
    Option<oneshot::Sender<Result<Ack, LogError>>>,
);

/// Appends a group of captures as one batch; failures are retried one by one.
async fn publish_group(log: &SharedLog, group: &mut Vec<Pending>, metrics: &Metrics) {
    if group.is_empty() {
        return;
    }
    let durability = if group.iter().any(|(_, _, ack)| ack.is_some()) {
        Durability::Synced
    } else {
        Durability::Written
    };
    let mut encoded = Vec::with_capacity(group.len());
    let mut records = Vec::with_capacity(group.len());
    for (capture, trace, ack) in group.drain(..) {
        match to_record(&capture, &trace, metrics) {
            Ok(r) => {
                records.push(r);
                encoded.push((capture, trace, ack));
            }
            Err(e) => {
                metrics.captures_pending.decrement(1.0);
                if let Some(ack) = ack {
                    let _ = ack.send(Err(e));
                }
            }
        }
    }
    let results = log
        .append_batch(topics::CAPTURES, records, durability)
        .await;
    for ((capture, trace, ack), result) in encoded.into_iter().zip(results) {
        let result = match result {
            Ok(a) => {
                metrics.captures_published.increment(1);
                Ok(a)
            }
            // Rare: the record is rebuilt rather than every batch kept twice.
            Err(error) if error.is_retryable() => match to_record(&capture, &trace, metrics) {
                Ok(record) => append(log, &capture, record, durability, metrics).await,
                Err(e) => Err(e),
            },
            Err(error) => {
                metrics.io_error(IoOp::CapturePublish);
                metrics.captures_dropped.increment(1);
                tracing::error!(%error, capture = capture.id(), "capture dropped: the log refused it");
                Err(error)
            }
        };
        metrics.captures_pending.decrement(1.0);
        if let Some(ack) = ack {
            let _ = ack.send(result);
        }
    }
}

fn to_record(
    capture: &Capture,
    trace: &TraceParent,
    metrics: &Metrics,
) -> Result<Record, LogError> {
    let value = capture_bytes(capture).map_err(|error| {
        metrics.io_error(IoOp::CapturePublish);
        metrics.captures_dropped.increment(1);
        tracing::error!(%error, capture = capture.id(), "capture could not be encoded");
        LogError::Backend(error.to_string())
    })?;
    Ok(Record {
        key: Some(Bytes::copy_from_slice(capture.service().as_bytes())),
        value: Some(Bytes::from(value)),
        headers: vec![
            Header {
                name: SCHEMA_HEADER.to_owned(),
                value: Bytes::from_static(b"dev.ghost.Capture"),
            },
            trace.header(),
        ],
        timestamp_ms: capture.started_at_us() / 1000,
    })
}

/// Retries one capture whose batched append failed with a retryable error.
async fn append(
    log: &SharedLog,
    capture: &Capture,
    record: Record,
    durability: Durability,
    metrics: &Metrics,
) -> Result<Ack, LogError> {
    let mut attempt = 1;
    loop {
        metrics.io_error(IoOp::CapturePublish);
        tokio::time::sleep(std::time::Duration::from_millis(50 * u64::from(attempt))).await;
        attempt += 1;
        match log
            .append(topics::CAPTURES, record.clone(), durability)
            .await
        {
            Ok(ack) => {
                metrics.captures_published.increment(1);
                return Ok(ack);
            }
            Err(error) if error.is_retryable() && attempt < APPEND_ATTEMPTS => {
                tracing::warn!(%error, attempt, "capture append failed; retrying");
            }
            Err(error) => {
                metrics.io_error(IoOp::CapturePublish);
                metrics.captures_dropped.increment(1);
                tracing::error!(%error, capture = capture.id(), "capture dropped: the log refused it");
                return Err(error);
            }
        }
    }
}
