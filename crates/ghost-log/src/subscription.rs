//! Consumer-group subscriptions: the partitions of a topic shared among the
//! members of a group, each member polling its share and committing what it has
//! handled.
//!
//! [`Generic`] works on any [`Log`] from `read` and `commit` alone: the member is
//! alone in its group and owns every partition (the embedded log, one process).
//! Backends with real group membership (Kafka) override [`Log::subscribe`].

use crate::{Log, LogError, StoredRecord};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// One member's view of a group subscription.
#[async_trait]
pub trait Subscription: Send {
    /// Up to `max` records from the partitions assigned to this member, in offset
    /// order per partition, starting after what the group committed. Waits up to
    /// `wait` for the first record. Records are delivered once per subscription
    /// (a new member of the group resumes from the committed offsets).
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<StoredRecord>, LogError>;

    /// Commits `next_offset` (last handled + 1) for a partition, durably. Call it
    /// only once the records before it are handled and their output is durable.
    async fn commit(&mut self, partition: u32, next_offset: u64) -> Result<(), LogError>;

    /// Partitions currently assigned to this member.
    fn assignment(&self) -> Vec<u32>;

    /// Leaves the group now, so its partitions go to the other members without
    /// waiting for this member's session to expire. Call it after the last commit.
    async fn close(&mut self) {}
}

/// A single-member subscription over `read`/`commit`.
pub struct Generic {
    log: Arc<dyn Log>,
    group: String,
    topic: String,
    /// (partition, next offset to read).
    positions: Vec<(u32, u64)>,
    /// Round-robin start, so one busy partition cannot starve the others.
    turn: usize,
}

impl Generic {
    pub async fn new(log: Arc<dyn Log>, group: &str, topic: &str) -> Result<Self, LogError> {
        let spec = log.topic(topic).await?;
        let mut positions = Vec::with_capacity(spec.partitions as usize);
        for p in 0..spec.partitions {
            let next = log.committed(group, topic, p).await?.unwrap_or(0);
            positions.push((p, next));
        }
        Ok(Self {
            log,
            group: group.to_owned(),
            topic: topic.to_owned(),
            positions,
            turn: 0,
        })
    }
}

#[async_trait]
impl Subscription for Generic {
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<StoredRecord>, LogError> {
        let n = self.positions.len();
        if n == 0 || max == 0 {
            return Ok(Vec::new());
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let mut out = Vec::new();
            for i in 0..n {
                let idx = (self.turn + i) % n;
                let (p, next) = self.positions[idx];
                let got = self
                    .log
                    .read(&self.topic, p, next, max - out.len(), None)
                    .await?;
                if let Some(last) = got.last() {
                    self.positions[idx].1 = last.offset + 1;
                }
                out.extend(got);
                if out.len() >= max {
                    break;
                }
            }
            self.turn = (self.turn + 1) % n;
            let now = tokio::time::Instant::now();
            if !out.is_empty() || now >= deadline {
                return Ok(out);
            }
            // Nothing anywhere: block on one partition (rotating) for a slice of
            // the wait, so an append anywhere is seen within that slice.
            let (p, next) = self.positions[self.turn];
            let slice = (deadline - now).min(Duration::from_millis(50));
            let got = self
                .log
                .read(&self.topic, p, next, max, Some(slice))
                .await?;
            if let Some(last) = got.last() {
                self.positions[self.turn].1 = last.offset + 1;
                return Ok(got);
            }
        }
    }

    async fn commit(&mut self, partition: u32, next_offset: u64) -> Result<(), LogError> {
        self.log
            .commit(&self.group, &self.topic, partition, next_offset)
            .await
    }

    fn assignment(&self) -> Vec<u32> {
        self.positions.iter().map(|(p, _)| *p).collect()
    }
}
