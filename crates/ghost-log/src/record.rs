//! Records as appended and as read back, topic specs, acknowledgements.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// One record header: a name and opaque bytes (schema identity, `traceparent`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: Bytes,
}

/// A record to append.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// Partitioning and compaction key; `None` goes to partition 0.
    pub key: Option<Bytes>,
    /// Payload; `None` is a tombstone (deletes the key on compacted topics).
    pub value: Option<Bytes>,
    pub headers: Vec<Header>,
    /// Milliseconds since the Unix epoch; `0` means "stamp it on append".
    pub timestamp_ms: i64,
}

/// A record read back from the log, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub partition: u32,
    pub offset: u64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<Header>,
    pub timestamp_ms: i64,
}

impl StoredRecord {
    /// The first header with this name, if any.
    pub fn header(&self, name: &str) -> Option<&Bytes> {
        self.headers
            .iter()
            .find(|h| h.name == name)
            .map(|h| &h.value)
    }
}

/// Where an appended record landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    pub partition: u32,
    pub offset: u64,
}

/// How durable an append must be before it is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Written to the backend (the OS page cache for the embedded log): survives a
    /// crash of this process, not of the machine. Fsync follows the backend's policy.
    #[default]
    Written,
    /// Flushed to stable storage (fsync for the embedded log; acks=all for Kafka).
    Synced,
}

/// What a topic is: its name, partition count, and whether it is compacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: u32,
    /// Compacted topics keep only the newest record per key (after compaction runs).
    #[serde(default)]
    pub compacted: bool,
    /// How long records are kept (`-1`: forever), where the backend enforces
    /// retention (Kafka); `None` leaves the backend's default. Applied when a
    /// topic is created; `ghost topics apply` reconciles existing ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_ms: Option<i64>,
}

impl TopicSpec {
    pub fn new(name: impl Into<String>, partitions: u32) -> Self {
        Self {
            name: name.into(),
            partitions,
            compacted: false,
            retention_ms: None,
        }
    }

    pub fn compacted(mut self) -> Self {
        self.compacted = true;
        self
    }
}
