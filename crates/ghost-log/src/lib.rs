//! The append-only log every ghost component talks through.
//!
//! A log holds named topics; each topic has a fixed number of partitions, and a
//! record's partition is chosen by hashing its key (Kafka's murmur2, so the embedded
//! and Kafka backends place a key on the same partition). Within a partition records
//! get dense, increasing offsets (compaction may later remove some, leaving gaps).
//!
//! The [`Log`] trait is the contract; [`embedded::EmbeddedLog`] is the default
//! backend (segment files under a data directory). The behaviour every backend must
//! show is written once in [`conformance`] and run against each backend.

pub mod conformance;
pub mod embedded;
mod error;
pub mod kafka;
mod names;
mod partitioner;
mod record;
pub mod subscription;
pub mod trace;

pub use error::LogError;
pub use partitioner::{murmur2, partition_for_key};
pub use record::{Ack, Durability, Header, Record, StoredRecord, TopicSpec};
pub use subscription::Subscription;

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// A shared handle to some log backend.
pub type SharedLog = Arc<dyn Log>;

/// Joins consumer group `group` on `topic`: the backend's own group membership
/// where it has one, else a single member owning every partition.
pub async fn subscribe(
    log: &SharedLog,
    group: &str,
    topic: &str,
) -> Result<Box<dyn Subscription>, LogError> {
    names::validate_name(group).map_err(LogError::InvalidGroupName)?;
    if let Some(native) = log.native_subscription(group, topic).await? {
        return Ok(native);
    }
    Ok(Box::new(
        subscription::Generic::new(log.clone(), group, topic).await?,
    ))
}

/// The append-only log.
///
/// Every method is safe to call concurrently from many tasks.
#[async_trait]
pub trait Log: Send + Sync + 'static {
    /// Creates `spec.name` if it does not exist. Calling it again with the same spec
    /// is a no-op; a spec whose partition count differs from the existing topic's is
    /// [`LogError::TopicMismatch`] (partition counts never change under a topic).
    async fn create_topic(&self, spec: &TopicSpec) -> Result<(), LogError>;

    /// The spec of an existing topic, or [`LogError::UnknownTopic`].
    async fn topic(&self, name: &str) -> Result<TopicSpec, LogError>;

    /// Appends one record to the partition its key hashes to (partition 0 when the
    /// key is `None`) and resolves once the record is as durable as `durability`
    /// asks. The returned [`Ack`] names the partition and offset the record got.
    async fn append(
        &self,
        topic: &str,
        record: Record,
        durability: Durability,
    ) -> Result<Ack, LogError>;

    /// Appends several records to one topic and resolves once all are as durable
    /// as `durability` asks. Records keep their input order within each partition;
    /// the result has one entry per record, in input order. The default appends
    /// one at a time; backends override it to pipeline the batch (one group commit
    /// instead of one round trip per record).
    async fn append_batch(
        &self,
        topic: &str,
        records: Vec<Record>,
        durability: Durability,
    ) -> Vec<Result<Ack, LogError>> {
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            out.push(self.append(topic, record, durability).await);
        }
        out
    }

    /// Reads up to `max` records of one partition starting at `from` (the first
    /// record whose offset is `>= from`). Returns at once with what is there (maybe
    /// nothing) unless `wait` is set, in which case it waits up to `wait` for at least
    /// one record to arrive. Only records whose append was acknowledged are visible.
    async fn read(
        &self,
        topic: &str,
        partition: u32,
        from: u64,
        max: usize,
        wait: Option<Duration>,
    ) -> Result<Vec<StoredRecord>, LogError>;

    /// The offset the next record appended to this partition will get (the high
    /// watermark): reading from it returns nothing yet.
    async fn end_offset(&self, topic: &str, partition: u32) -> Result<u64, LogError>;

    /// Stores `next_offset` (the offset of the next record the group wants, i.e. the
    /// last handled offset + 1) as the group's committed position, durably.
    async fn commit(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
        next_offset: u64,
    ) -> Result<(), LogError>;

    /// The group's committed position for a partition, `None` if it never committed.
    async fn committed(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Result<Option<u64>, LogError>;

    /// A subscription with real group membership, for backends that have it
    /// (Kafka). `None` (the default) makes [`subscribe`] use a single member that
    /// owns every partition, built on `read` and `commit`.
    async fn native_subscription(
        &self,
        _group: &str,
        _topic: &str,
    ) -> Result<Option<Box<dyn Subscription>>, LogError> {
        Ok(None)
    }

    /// Runs compaction on a compacted topic now: in closed segments only the newest
    /// record per key survives. Backends that compact on their own may make this a
    /// no-op. Offsets of surviving records never change.
    async fn compact(&self, topic: &str) -> Result<(), LogError>;
}
