//! Typed topics: encoding a contract into a log record and back.

use crate::files::{FileError, file};
use bytes::Bytes;
use ghost_log::trace::{TraceParent, continue_trace};
use ghost_log::{Header, Log, LogError, Record, StoredRecord, TopicSpec};
use ghost_schema::{Contract, SchemaError};
use std::marker::PhantomData;

/// Header naming the Avro subject of a record's value, for humans and tools
/// (the value's own fingerprint is what decoding trusts).
pub const SCHEMA_HEADER: &str = "ghost-schema";

/// Why a topic could not be created or a record built.
#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("creating {topic}: {source}")]
    Create {
        topic: &'static str,
        #[source]
        source: LogError,
    },
    #[error("encoding a record for {topic}: {source}")]
    Encode {
        topic: &'static str,
        #[source]
        source: SchemaError,
    },
}

/// Why a stored record is not a `T`; such a record can never be handled.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("{topic} record at {partition}/{offset} has no value")]
    Tombstone {
        topic: &'static str,
        partition: u32,
        offset: u64,
    },
    #[error("{topic} record at {partition}/{offset} is not decodable: {source}")]
    Schema {
        topic: &'static str,
        partition: u32,
        offset: u64,
        #[source]
        source: SchemaError,
    },
}

/// A topic whose records are `T`.
pub struct Topic<T> {
    name: &'static str,
    key: fn(&T) -> String,
    /// Record timestamp in ms since the epoch; 0 lets the log stamp it.
    timestamp_ms: fn(&T) -> i64,
    _records: PhantomData<fn() -> T>,
}

impl<T> Clone for Topic<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Topic<T> {}

impl<T> std::fmt::Debug for Topic<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl<T: Contract> Topic<T> {
    pub(crate) const fn new(
        name: &'static str,
        key: fn(&T) -> String,
        timestamp_ms: fn(&T) -> i64,
    ) -> Self {
        Self {
            name,
            key,
            timestamp_ms,
            _records: PhantomData,
        }
    }

    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Partitions and cleanup policy, from the topic's file.
    pub fn spec(&self) -> Result<TopicSpec, FileError> {
        file(self.name).map(|f| f.spec())
    }

    /// Creates the topic on `log` if it is missing.
    pub async fn ensure(&self, log: &dyn Log) -> Result<(), TopicError> {
        ensure(log, self.name).await
    }

    /// The key a value is stored under.
    pub fn key(&self, value: &T) -> String {
        (self.key)(value)
    }

    /// The log record for `value`: encoded with the latest schema, keyed, with
    /// the schema header, and in the trace `hop` (a new root when `None`).
    pub fn record(&self, value: &T, hop: Option<&TraceParent>) -> Result<Record, TopicError> {
        let bytes = ghost_schema::encode(value).map_err(|source| TopicError::Encode {
            topic: self.name,
            source,
        })?;
        let mut record = self.encoded(
            Bytes::from(self.key(value)),
            Bytes::from(bytes),
            (self.timestamp_ms)(value),
        );
        continue_trace(&mut record, hop);
        Ok(record)
    }

    /// The log record for a value encoded elsewhere (the proxy's capture writer
    /// encodes on the request thread): keyed, with the schema header, no trace.
    pub fn encoded(&self, key: Bytes, value: Bytes, timestamp_ms: i64) -> Record {
        // Room for the traceparent every record gets next.
        let mut headers = Vec::with_capacity(2);
        headers.push(Header {
            name: SCHEMA_HEADER.to_owned(),
            value: Bytes::from_static(T::SUBJECT.name().as_bytes()),
        });
        Record {
            key: Some(key),
            value: Some(value),
            headers,
            timestamp_ms,
        }
    }

    /// The value of a record read from this topic.
    pub fn decode(&self, record: &StoredRecord) -> Result<T, DecodeError> {
        let value = record.value.as_ref().ok_or(DecodeError::Tombstone {
            topic: self.name,
            partition: record.partition,
            offset: record.offset,
        })?;
        ghost_schema::decode(value).map_err(|source| DecodeError::Schema {
            topic: self.name,
            partition: record.partition,
            offset: record.offset,
            source,
        })
    }
}

/// A topic whose records carry other topics' bytes (dead letters).
#[derive(Debug, Clone, Copy)]
pub struct RawTopic {
    name: &'static str,
}

impl RawTopic {
    pub(crate) const fn new(name: &'static str) -> Self {
        Self { name }
    }

    pub const fn name(&self) -> &'static str {
        self.name
    }

    pub fn spec(&self) -> Result<TopicSpec, FileError> {
        file(self.name).map(|f| f.spec())
    }

    pub async fn ensure(&self, log: &dyn Log) -> Result<(), TopicError> {
        ensure(log, self.name).await
    }
}

async fn ensure(log: &dyn Log, name: &'static str) -> Result<(), TopicError> {
    let spec = file(name)?.spec();
    log.create_topic(&spec)
        .await
        .map_err(|source| TopicError::Create {
            topic: name,
            source,
        })
}
