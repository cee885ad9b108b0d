//! Reading a partition from an offset with pooled, explicitly assigned consumers.
//!
//! Kafka has no "read N records at offset X" call; a consumer assigned to the
//! partition at X does it. Consumers are pooled per partition and remember where
//! they stopped, so a sequential reader (a tail) keeps one consumer whose
//! prefetched records are already waiting, and only a seek elsewhere re-assigns.

use super::error::map;
use crate::{Header, LogError, StoredRecord};
use bytes::Bytes;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Consumers kept per partition; more concurrent readers create more.
const POOL_PER_PARTITION: usize = 4;
/// How long a read without `wait` may take to collect records known to exist.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(10);

/// Reader context: reaching the end of a partition is how every catch-up read
/// ends, not an error worth logging; other errors are warnings (the read that
/// hits them returns them).
pub(crate) struct ReaderContext;

impl ClientContext for ReaderContext {
    fn error(&self, error: KafkaError, reason: &str) {
        let eof = matches!(&error, KafkaError::PartitionEOF(_))
            || error.rdkafka_error_code() == Some(RDKafkaErrorCode::PartitionEOF);
        if !eof {
            tracing::warn!(%error, reason, "kafka reader error");
        }
    }
}

impl ConsumerContext for ReaderContext {}

pub(crate) struct Reader {
    consumer: BaseConsumer<ReaderContext>,
    /// Offset the next poll returns, when assigned.
    next: Option<u64>,
}

/// The pool of readers.
pub(crate) struct Readers {
    config: ClientConfig,
    pool: Mutex<HashMap<(String, u32), Vec<Reader>>>,
}

impl Readers {
    pub fn new(config: ClientConfig) -> Self {
        Self {
            config,
            pool: Mutex::new(HashMap::new()),
        }
    }

    /// A reader for the partition, preferring one positioned at `from`.
    pub fn take(&self, topic: &str, partition: u32, from: u64) -> Result<Reader, LogError> {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = pool.get_mut(&(topic.to_owned(), partition)) {
            if let Some(i) = list.iter().position(|r| r.next == Some(from)) {
                return Ok(list.swap_remove(i));
            }
            if let Some(r) = list.pop() {
                return Ok(r);
            }
        }
        drop(pool);
        let consumer: BaseConsumer<ReaderContext> = self
            .config
            .create_with_context(ReaderContext)
            .map_err(|e| LogError::Backend(format!("cannot create a kafka reader: {e}")))?;
        Ok(Reader {
            consumer,
            next: None,
        })
    }

    pub fn give_back(&self, topic: &str, partition: u32, reader: Reader) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        let list = pool.entry((topic.to_owned(), partition)).or_default();
        if list.len() < POOL_PER_PARTITION {
            list.push(reader);
        }
    }
}

impl Reader {
    /// Blocking read. `end` is the partition's end offset as known now (used when
    /// not waiting: stop once everything before it was read).
    pub fn read(
        &mut self,
        topic: &str,
        partition: u32,
        from: u64,
        max: usize,
        wait: Option<Duration>,
        end: u64,
    ) -> Result<Vec<StoredRecord>, LogError> {
        let mut out = Vec::new();
        if max == 0 || (wait.is_none() && from >= end) {
            return Ok(out);
        }
        if self.next != Some(from) {
            let mut tpl = TopicPartitionList::new();
            let p = i32::try_from(partition).map_err(|_| LogError::UnknownPartition {
                topic: topic.to_owned(),
                partition,
            })?;
            let offset = Offset::Offset(i64::try_from(from).unwrap_or(i64::MAX));
            tpl.add_partition_offset(topic, p, offset)
                .map_err(|e| map(&e, topic))?;
            self.consumer.assign(&tpl).map_err(|e| map(&e, topic))?;
            self.next = Some(from);
        }
        let started = Instant::now();
        loop {
            if out.len() >= max {
                break;
            }
            let timeout = match (out.is_empty(), wait) {
                // Waiting for the first record.
                (true, Some(w)) => match w.checked_sub(started.elapsed()) {
                    Some(left) => left,
                    None => break,
                },
                // Draining what is already fetched.
                (false, Some(_)) => Duration::ZERO,
                // Catching up to `end` without waiting for anything newer.
                (_, None) => {
                    if self.next.is_some_and(|n| n >= end) || started.elapsed() > CATCH_UP_LIMIT {
                        break;
                    }
                    Duration::from_millis(100)
                }
            };
            match self.consumer.poll(timeout) {
                None => {
                    if wait.is_some() {
                        break;
                    }
                }
                Some(Err(KafkaError::PartitionEOF(_))) => {
                    if wait.is_none() || !out.is_empty() {
                        break;
                    }
                }
                Some(Err(e)) => {
                    self.next = None;
                    return Err(map(&e, topic));
                }
                Some(Ok(msg)) => {
                    let offset = u64::try_from(msg.offset()).unwrap_or(0);
                    self.next = Some(offset + 1);
                    // An out-of-range `from` (past the end) resets to the earliest
                    // record: never hand back anything before what was asked for.
                    if offset < from {
                        continue;
                    }
                    out.push(stored(&msg, partition, offset));
                }
            }
        }
        Ok(out)
    }
}

/// A consumed message as a [`StoredRecord`] (partition and offset from the message).
pub(crate) fn stored_message(msg: &rdkafka::message::BorrowedMessage<'_>) -> StoredRecord {
    let partition = u32::try_from(msg.partition()).unwrap_or(0);
    let offset = u64::try_from(msg.offset()).unwrap_or(0);
    stored(msg, partition, offset)
}

fn stored(
    msg: &rdkafka::message::BorrowedMessage<'_>,
    partition: u32,
    offset: u64,
) -> StoredRecord {
    let headers = msg
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| Header {
                    name: h.key.to_owned(),
                    value: Bytes::copy_from_slice(h.value.unwrap_or_default()),
                })
                .collect()
        })
        .unwrap_or_default();
    StoredRecord {
        partition,
        offset,
        key: msg.key().map(Bytes::copy_from_slice),
        value: msg.payload().map(Bytes::copy_from_slice),
        headers,
        timestamp_ms: msg.timestamp().to_millis().unwrap_or(0),
    }
}
