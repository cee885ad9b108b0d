//! Table followers: read a topic to its end, then keep tailing it, for state
//! every instance needs whole (configuration, modes, the library), unlike a
//! worker's consumer group, which shares partitions among members.
//!
//! A [`Follower`] reads one partition; a [`TableFollower`] all of a topic's.
//! Both decode through the topic's contract and skip (with a warning, and in
//! the step's count) what does not decode: a record a newer build wrote that
//! this one cannot read must not stop the follower.

use crate::shutdown::Shutdown;
use ghost_log::{LogError, SharedLog};
use ghost_schema::Contract;
use ghost_topics::Topic;
use std::time::Duration;

const READ_BATCH: usize = 1024;

/// One decoded record and its offset.
#[derive(Debug, Clone)]
pub struct Entry<T> {
    pub offset: u64,
    pub value: T,
}

/// Records read from one partition in one step, in offset order.
#[derive(Debug, Clone)]
pub struct Batch<T> {
    pub partition: u32,
    /// The decoded records (undecodable ones are skipped).
    pub entries: Vec<Entry<T>>,
    /// The offset after the last record read, decoded or not.
    pub next: u64,
}

/// What one read applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Step {
    /// Records read (decoded or skipped); 0 when nothing new arrived.
    pub read: usize,
    /// Records that did not decode.
    pub skipped: usize,
}

/// Follows one partition of a topic.
pub struct Follower<T> {
    log: SharedLog,
    topic: Topic<T>,
    partition: u32,
    next: u64,
}

impl<T: Contract> Follower<T> {
    /// A follower of `partition` starting at offset `from`.
    pub fn new(log: SharedLog, topic: Topic<T>, partition: u32, from: u64) -> Self {
        Self {
            log,
            topic,
            partition,
            next: from,
        }
    }

    pub fn partition(&self) -> u32 {
        self.partition
    }

    /// The next offset to read.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// Reads up to `max` records (waiting up to `wait` for the first) and
    /// hands them, decoded and in order, to `apply` (not called when none).
    pub async fn step(
        &mut self,
        max: usize,
        wait: Option<Duration>,
        apply: &mut (dyn FnMut(Batch<T>) + Send),
    ) -> Result<Step, LogError> {
        let records = self
            .log
            .read(self.topic.name(), self.partition, self.next, max, wait)
            .await?;
        let Some(last) = records.last() else {
            return Ok(Step::default());
        };
        self.next = last.offset + 1;
        let mut step = Step {
            read: records.len(),
            skipped: 0,
        };
        let mut entries = Vec::with_capacity(records.len());
        for r in &records {
            match self.topic.decode(r) {
                Ok(value) => entries.push(Entry {
                    offset: r.offset,
                    value,
                }),
                Err(error) => {
                    step.skipped += 1;
                    tracing::warn!(%error, "record skipped by a follower");
                }
            }
        }
        apply(Batch {
            partition: self.partition,
            entries,
            next: self.next,
        });
        Ok(step)
    }

    /// Applies everything up to the partition's end as it is now; returns the
    /// records skipped.
    pub async fn catch_up(
        &mut self,
        apply: &mut (dyn FnMut(Batch<T>) + Send),
    ) -> Result<usize, LogError> {
        let end = self
            .log
            .end_offset(self.topic.name(), self.partition)
            .await?;
        let mut skipped = 0;
        while self.next < end {
            let step = self.step(READ_BATCH, None, apply).await?;
            skipped += step.skipped;
            if step.read == 0 {
                // Compaction or retention left a gap up to the end.
                break;
            }
        }
        self.next = self.next.max(end);
        Ok(skipped)
    }
}

/// Follows every partition of a topic.
pub struct TableFollower<T> {
    parts: Vec<Follower<T>>,
    turn: usize,
}

impl<T: Contract> TableFollower<T> {
    /// A follower of the whole topic from its first record (the topic must exist).
    pub async fn open(log: SharedLog, topic: Topic<T>) -> Result<Self, LogError> {
        let spec = log.topic(topic.name()).await?;
        let parts = (0..spec.partitions)
            .map(|p| Follower::new(log.clone(), topic, p, 0))
            .collect();
        Ok(Self { parts, turn: 0 })
    }

    /// Applies everything present now, partition by partition.
    pub async fn catch_up(
        &mut self,
        apply: &mut (dyn FnMut(Batch<T>) + Send),
    ) -> Result<usize, LogError> {
        let mut skipped = 0;
        for part in &mut self.parts {
            skipped += part.catch_up(apply).await?;
        }
        Ok(skipped)
    }

    /// One read round over the partitions: every partition without waiting,
    /// then (when nothing was new) one wait of up to `wait` on the next in turn.
    pub async fn step(
        &mut self,
        wait: Duration,
        apply: &mut (dyn FnMut(Batch<T>) + Send),
    ) -> Result<Step, LogError> {
        let mut total = Step::default();
        for part in &mut self.parts {
            let s = part.step(READ_BATCH, None, apply).await?;
            total.read += s.read;
            total.skipped += s.skipped;
        }
        if total.read > 0 || self.parts.is_empty() {
            return Ok(total);
        }
        self.turn = (self.turn + 1) % self.parts.len();
        // A short slice per partition, so an append anywhere is seen soon.
        let slice = wait.min(Duration::from_millis(100));
        self.parts[self.turn]
            .step(READ_BATCH, Some(slice), apply)
            .await
    }

    /// Tails the topic until `shutdown` triggers, retrying read failures.
    pub async fn run(mut self, mut shutdown: Shutdown, mut apply: impl FnMut(Batch<T>) + Send) {
        while !shutdown.is_triggered() {
            tokio::select! {
                r = self.step(Duration::from_millis(500), &mut apply) => {
                    if let Err(error) = r {
                        tracing::warn!(%error, "follower read failed; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
                _ = shutdown.triggered() => break,
            }
        }
    }
}
