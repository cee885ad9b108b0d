//! Capture publishing: a bounded queue between the request path and the log.
//!
//! LEARN responses never wait for the log: `enqueue` is a `try_send`, and a full
//! queue drops the capture and counts it. With durable captures the response waits
//! for the log's acknowledgement of a synced append instead.

use crate::metrics::{IoOp, Metrics};
use crate::spans::CaptureTrace;
use crate::wire::capture_bytes;
use bytes::Bytes;
use ghost_log::{Ack, Durability, LogError, Record, SharedLog};
use ghost_model::{Capture, CaptureParts, Redactor};
use ghost_topics as topics;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Appends retried before a capture is given up (and counted).
const APPEND_ATTEMPTS: u32 = 3;

enum Job {
    Capture {
        capture: Encoded,
        ack: Option<oneshot::Sender<Result<Ack, LogError>>>,
    },
    Flush(oneshot::Sender<()>),
}

/// A capture already redacted and encoded by the request's own thread: the
/// capture's many small allocations are freed where they were made, and only
/// these few reference-counted buffers cross to the publishing task.
struct Encoded {
    key: Bytes,
    value: Bytes,
    trace: CaptureTrace,
    timestamp_ms: i64,
}

impl Encoded {
    /// Fails (counted as a dropped capture) only if the capture cannot be encoded.
    fn new(capture: &Capture, trace: CaptureTrace, metrics: &Metrics) -> Result<Self, LogError> {
        let value = capture_bytes(capture).map_err(|error| {
            metrics.io_error(IoOp::CapturePublish);
            metrics.captures_dropped.increment(1);
            tracing::error!(%error, capture = capture.id(), "capture could not be encoded");
            LogError::Backend(error.to_string())
        })?;
        Ok(Self {
            key: Bytes::copy_from_slice(capture.service().as_bytes()),
            value: Bytes::from(value),
            trace,
            timestamp_ms: capture.started_at_us() / 1000,
        })
    }

    /// The log record; cheap to build again for a retry (the buffers are shared).
    fn record(&self) -> Record {
        let mut r =
            topics::CAPTURES.encoded(self.key.clone(), self.value.clone(), self.timestamp_ms);
        r.headers.push(self.trace.record.header());
        r
    }
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
    pub(crate) fn enqueue(&self, parts: CaptureParts, trace: CaptureTrace) {
        let Inner {
            tx,
            redactor,
            metrics,
        } = &*self.inner;
        let Ok(capture) = Encoded::new(&redactor.capture(parts), trace, metrics) else {
            return;
        };
        let job = Job::Capture { capture, ack: None };
        if tx.try_send(job).is_ok() {
            metrics.captures_pending.increment(1.0);
        } else {
            metrics.captures_dropped.increment(1);
            metrics.io_error(IoOp::CaptureEnqueue);
        }
    }

    /// Publishes a capture and waits until the log has synced it.
    pub(crate) async fn publish_durable(
        &self,
        parts: CaptureParts,
        trace: CaptureTrace,
    ) -> Result<Ack, PublishError> {
        let Inner {
            tx: _,
            redactor,
            metrics,
        } = &*self.inner;
        let capture = Encoded::new(&redactor.capture(parts), trace, metrics)?;
        let (tx, rx) = oneshot::channel();
        self.inner
            .tx
            .send(Job::Capture {
                capture,
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
                Job::Capture { capture, ack } => group.push((capture, ack)),
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

type Pending = (Encoded, Option<oneshot::Sender<Result<Ack, LogError>>>);

/// Appends a group of captures as one batch; failures are retried one by one.
async fn publish_group(log: &SharedLog, group: &mut Vec<Pending>, metrics: &Metrics) {
    if group.is_empty() {
        return;
    }
    let durability = if group.iter().any(|(_, ack)| ack.is_some()) {
        Durability::Synced
    } else {
        Durability::Written
    };
    let records = group.iter().map(|(c, _)| c.record()).collect();
    let results = log
        .append_batch(topics::CAPTURES.name(), records, durability)
        .await;
    for ((capture, ack), result) in group.drain(..).zip(results) {
        let result = match result {
            Ok(a) => {
                metrics.captures_published.increment(1);
                Ok(a)
            }
            Err(error) if error.is_retryable() => append(log, &capture, durability, metrics).await,
            Err(error) => {
                metrics.io_error(IoOp::CapturePublish);
                metrics.captures_dropped.increment(1);
                tracing::error!(%error, trace = %capture.trace.record.to_header_value(), "capture dropped: the log refused it");
                Err(error)
            }
        };
        metrics.captures_pending.decrement(1.0);
        if let Some(span) = capture.trace.span {
            span.end(
                capture.trace.record,
                topics::CAPTURES.name(),
                result.as_ref(),
            );
        }
        if let Some(ack) = ack {
            let _ = ack.send(result);
        }
    }
}

/// Retries one capture whose batched append failed with a retryable error.
async fn append(
    log: &SharedLog,
    capture: &Encoded,
    durability: Durability,
    metrics: &Metrics,
) -> Result<Ack, LogError> {
    let mut attempt = 1;
    loop {
        metrics.io_error(IoOp::CapturePublish);
        tokio::time::sleep(std::time::Duration::from_millis(50 * u64::from(attempt))).await;
        attempt += 1;
        match log
            .append(topics::CAPTURES.name(), capture.record(), durability)
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
                tracing::error!(%error, trace = %capture.trace.record.to_header_value(), "capture dropped: the log refused it");
                return Err(error);
            }
        }
    }
}
