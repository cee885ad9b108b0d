//! The embedded log backend: topics as directories of segment files under one data
//! directory, consumer offsets as small JSON files next to them.
//!
//! ```text
//! <dir>/LOCK                                   held while the log is open
//! <dir>/topics/<topic>/topic.json              the TopicSpec
//! <dir>/topics/<topic>/<partition>/<base>.seg  segments, base offset zero-padded to 20 digits
//! <dir>/groups/<group>.json                    committed offsets of one consumer group
//! ```
//!
//! Each partition has one writer task that group-commits appends (see `writer`);
//! readers `pread` the segments concurrently and only see acknowledged records.

mod compaction;
mod config;
mod frame;
mod fsutil;
mod offsets;
mod partition;
mod recovery;
mod segment;
mod topics;
mod writer;

pub use config::{
    DEFAULT_FSYNC_INTERVAL, DEFAULT_MAX_RECORD_BYTES, DEFAULT_SEGMENT_BYTES, EmbeddedConfig,
    FsyncPolicy,
};

use crate::{Ack, Durability, Log, LogError, Record, StoredRecord, TopicSpec, partition_for_key};
use async_trait::async_trait;
use fsutil::DirLock;
use offsets::GroupOffsets;
use partition::Partition;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use topics::{Opened, check_same, create_topic_files, load_topics, validate_name};

/// The embedded, file-backed [`Log`]. Open it once per data directory.
///
/// Dropping the last handle stops the partition writers after a final fsync (skipped
/// under [`FsyncPolicy::Never`]); call [`EmbeddedLog::flush`] first to see fsync
/// errors. An append whose future is dropped after it was queued may still be
/// written. Compaction runs only when [`Log::compact`] is called.
#[derive(Debug)]
pub struct EmbeddedLog {
    config: EmbeddedConfig,
    topics: RwLock<HashMap<String, Arc<Topic>>>,
    /// Serializes topic creation so two creators never build the same directories.
    creating: tokio::sync::Mutex<()>,
    offsets: GroupOffsets,
    lock: Arc<DirLock>,
}

#[derive(Debug)]
struct Topic {
    spec: TopicSpec,
    partitions: Vec<Partition>,
}

impl EmbeddedLog {
    /// Opens (creating if needed) the log in `config.dir`, recovering every partition:
    /// torn tails of last segments are truncated, corruption elsewhere is an error.
    ///
    /// Waits up to about two seconds for the directory lock, which a previous instance
    /// in this process holds until its writer tasks have finished.
    pub async fn open(config: EmbeddedConfig) -> Result<Arc<EmbeddedLog>, LogError> {
        fsutil::create_dir(&config.dir)?;
        let lock = Arc::new(DirLock::acquire(&config.dir).await?);
        let cfg = config.clone();
        let (specs, offsets) = blocking(move || {
            let topics = load_topics(&cfg)?;
            let offsets = GroupOffsets::load(cfg.dir.join("groups"))?;
            Ok((topics, offsets))
        })
        .await?;
        let mut topics = HashMap::new();
        for (spec, opened) in specs {
            let topic = start_topic(spec, opened, &lock);
            topics.insert(topic.spec.name.clone(), Arc::new(topic));
        }
        Ok(Arc::new(EmbeddedLog {
            config,
            topics: RwLock::new(topics),
            creating: tokio::sync::Mutex::new(()),
            offsets,
            lock,
        }))
    }

    /// Fsyncs everything appended so far, whatever the [`FsyncPolicy`]. Consumer
    /// offsets and topic metadata are already synced when written.
    pub async fn flush(&self) -> Result<(), LogError> {
        let topics: Vec<Arc<Topic>> = self.read_topics().values().cloned().collect();
        for topic in topics {
            for partition in &topic.partitions {
                partition.sync().await?;
            }
        }
        Ok(())
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.config.dir
    }

    /// Checks a record's size, stamps its time and picks its partition.
    fn prepare<'t>(
        &self,
        t: &'t Topic,
        mut record: Record,
    ) -> Result<(&'t Partition, Record), LogError> {
        crate::trace::ensure_traceparent(&mut record.headers);
        let size = frame::body_len(&record);
        let limit = self.config.record_limit();
        if size > limit {
            return Err(LogError::RecordTooLarge { size, limit });
        }
        if record.timestamp_ms == 0 {
            record.timestamp_ms = now_ms();
        }
        let p = partition_for_key(record.key.as_deref(), t.spec.partitions);
        let partition = t
            .partitions
            .get(p as usize)
            .ok_or_else(|| LogError::UnknownPartition {
                topic: t.spec.name.clone(),
                partition: p,
            })?;
        Ok((partition, record))
    }

    fn read_topics(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Topic>>> {
        self.topics.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn get_topic(&self, name: &str) -> Result<Arc<Topic>, LogError> {
        self.read_topics()
            .get(name)
            .cloned()
            .ok_or_else(|| LogError::UnknownTopic(name.to_owned()))
    }

    fn partition(&self, topic: &str, partition: u32) -> Result<(Arc<Topic>, usize), LogError> {
        let t = self.get_topic(topic)?;
        if partition >= t.spec.partitions {
            return Err(LogError::UnknownPartition {
                topic: topic.to_owned(),
                partition,
            });
        }
        Ok((t, partition as usize))
    }
}

#[async_trait]
impl Log for EmbeddedLog {
    async fn create_topic(&self, spec: &TopicSpec) -> Result<(), LogError> {
        crate::names::validate_spec(spec)?;
        let _creating = self.creating.lock().await;
        if let Ok(existing) = self.get_topic(&spec.name) {
            return check_same(&existing.spec, spec);
        }
        let cfg = self.config.clone();
        let new_spec = spec.clone();
        let opened = blocking(move || create_topic_files(&cfg, &new_spec)).await?;
        let topic = start_topic(spec.clone(), opened, &self.lock);
        self.topics
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(spec.name.clone(), Arc::new(topic));
        Ok(())
    }

    async fn topic(&self, name: &str) -> Result<TopicSpec, LogError> {
        Ok(self.get_topic(name)?.spec.clone())
    }

    async fn append(
        &self,
        topic: &str,
        record: Record,
        durability: Durability,
    ) -> Result<Ack, LogError> {
        let t = self.get_topic(topic)?;
        let (partition, record) = self.prepare(&t, record)?;
        partition.append(record, durability).await
    }

    async fn append_batch(
        &self,
        topic: &str,
        records: Vec<Record>,
        durability: Durability,
    ) -> Vec<Result<Ack, LogError>> {
        let t = match self.get_topic(topic) {
            Ok(t) => t,
            Err(e) => return records.iter().map(|_| Err(clone_error(&e))).collect(),
        };
        // One request per partition touched (records keep their order within
        // it), then the results are put back in the caller's order.
        let n = records.len();
        let mut out: Vec<Option<Result<Ack, LogError>>> = (0..n).map(|_| None).collect();
        let mut by_partition: Vec<(&Partition, Vec<usize>, Vec<Record>)> = Vec::new();
        for (i, record) in records.into_iter().enumerate() {
            match self.prepare(&t, record) {
                Ok((partition, record)) => {
                    match by_partition
                        .iter_mut()
                        .find(|(q, _, _)| std::ptr::eq(*q, partition))
                    {
                        Some((_, slots, group)) => {
                            slots.push(i);
                            group.push(record);
                        }
                        None => by_partition.push((partition, vec![i], vec![record])),
                    }
                }
                Err(e) => out[i] = Some(Err(e)),
            }
        }
        let mut pending = Vec::with_capacity(by_partition.len());
        for (partition, slots, group) in by_partition {
            pending.push((slots, partition.enqueue_many(group, durability).await));
        }
        for (slots, queued) in pending {
            let results = match queued {
                Ok(rx) => rx.await.map_err(|_| LogError::Closed),
                Err(e) => Err(e),
            };
            match results {
                Ok(results) => {
                    for (i, r) in slots.into_iter().zip(results) {
                        out[i] = Some(r);
                    }
                }
                Err(e) => {
                    for i in slots {
                        out[i] = Some(Err(clone_error(&e)));
                    }
                }
            }
        }
        // A writer that answered with fewer results than records lost the rest.
        out.into_iter()
            .map(|r| r.unwrap_or(Err(LogError::Closed)))
            .collect()
    }

    async fn read(
        &self,
        topic: &str,
        partition: u32,
        from: u64,
        max: usize,
        wait: Option<Duration>,
    ) -> Result<Vec<StoredRecord>, LogError> {
        let (t, p) = self.partition(topic, partition)?;
        t.partitions[p].read(from, max, wait).await
    }

    async fn end_offset(&self, topic: &str, partition: u32) -> Result<u64, LogError> {
        let (t, p) = self.partition(topic, partition)?;
        Ok(t.partitions[p].shared.end())
    }

    async fn commit(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
        next_offset: u64,
    ) -> Result<(), LogError> {
        validate_name(group).map_err(LogError::InvalidGroupName)?;
        self.partition(topic, partition)?;
        self.offsets
            .commit(group, topic, partition, next_offset)
            .await
    }

    async fn committed(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Result<Option<u64>, LogError> {
        validate_name(group).map_err(LogError::InvalidGroupName)?;
        self.partition(topic, partition)?;
        Ok(self.offsets.committed(group, topic, partition).await)
    }

    async fn compact(&self, topic: &str) -> Result<(), LogError> {
        let t = self.get_topic(topic)?;
        if !t.spec.compacted {
            return Ok(());
        }
        for partition in &t.partitions {
            partition.compact().await?;
        }
        Ok(())
    }
}

/// The same error for every record of a batch that failed as a whole.
fn clone_error(e: &LogError) -> LogError {
    match e {
        LogError::UnknownTopic(t) => LogError::UnknownTopic(t.clone()),
        other => LogError::Backend(other.to_string()),
    }
}

/// Milliseconds since the Unix epoch, for stamping records appended with 0.
pub(crate) fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// Runs blocking filesystem work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, LogError> + Send + 'static,
) -> Result<T, LogError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| LogError::Backend(format!("blocking task failed: {e}")))?
}

fn start_topic(spec: TopicSpec, opened: Vec<Opened>, lock: &Arc<DirLock>) -> Topic {
    let partitions = opened
        .into_iter()
        .map(|(shared, writer)| Partition::start(shared, writer, Arc::clone(lock)))
        .collect();
    Topic { spec, partitions }
}
