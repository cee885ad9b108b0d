//! The Kafka backend of [`Log`]: an idempotent acks=all producer, pooled
//! partition readers, and consumer-group offsets stored only when asked.
//!
//! Partitions are chosen here with Kafka's own murmur2 (so they match the embedded
//! log and every Kafka client), and each record is sent to its partition
//! explicitly. End offsets combine the broker's high watermark with the highest
//! offset this process saw acknowledged: some Kafka-protocol brokers (tansu)
//! advance the watermark per batch rather than per record.

mod admin;
mod config;
mod error;
mod group;
mod reader;

pub use admin::BrokerTopic;
pub use config::KafkaConfig;

use crate::names::validate_name;
use crate::trace::ensure_traceparent;
use crate::{Ack, Durability, Log, LogError, Record, StoredRecord, TopicSpec, partition_for_key};
use async_trait::async_trait;
use error::{joined, map};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header as KafkaHeader, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use reader::Readers;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A log on Kafka-protocol brokers.
pub struct KafkaLog {
    config: KafkaConfig,
    producer: FutureProducer,
    admin: AdminClient<DefaultClientContext>,
    readers: Arc<Readers>,
    groups: Mutex<HashMap<String, Arc<BaseConsumer>>>,
    specs: Mutex<HashMap<String, TopicSpec>>,
    /// Per (topic, partition): one past the highest offset acknowledged to us.
    acked: Mutex<HashMap<(String, u32), u64>>,
}

impl std::fmt::Debug for KafkaLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaLog")
            .field("bootstrap", &self.config.bootstrap)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl KafkaLog {
    /// Creates a topic with `replication` replicas and extra topic `configs`
    /// (`ghost topics apply`); like [`Log::create_topic`] when it exists.
    pub async fn create_topic_with(
        &self,
        spec: &TopicSpec,
        replication: u32,
        configs: &[(&str, String)],
    ) -> Result<(), LogError> {
        crate::names::validate_spec(spec)?;
        if let Some(existing) = self.partitions(&spec.name).await? {
            return mismatch(spec, existing);
        }
        let policy = if spec.compacted { "compact" } else { "delete" };
        let mut new = NewTopic::new(
            &spec.name,
            spec.partitions as i32,
            TopicReplication::Fixed(replication as i32),
        )
        .set("cleanup.policy", policy);
        let retention = spec.retention_ms.map(|ms| ms.to_string());
        if let Some(ms) = &retention
            && !configs.iter().any(|(k, _)| *k == "retention.ms")
        {
            new = new.set("retention.ms", ms);
        }
        for (k, v) in configs {
            new = new.set(k, v);
        }
        let opts = AdminOptions::new().operation_timeout(Some(self.config.timeout));
        let results = self
            .admin
            .create_topics([&new], &opts)
            .await
            .map_err(|e| LogError::Backend(format!("kafka create topic {}: {e}", spec.name)))?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => {
                    return Err(LogError::Backend(format!(
                        "kafka create topic {name}: {code}"
                    )));
                }
            }
        }
        // Creation propagates asynchronously; wait until metadata shows it.
        let deadline = tokio::time::Instant::now() + self.config.timeout;
        loop {
            if let Some(n) = self.partitions(&spec.name).await? {
                mismatch(spec, n)?;
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(LogError::Backend(format!(
                    "topic {} not visible after creation",
                    spec.name
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        lock(&self.specs).insert(spec.name.clone(), spec.clone());
        Ok(())
    }

    /// Creates the clients and checks the brokers answer.
    pub async fn connect(config: KafkaConfig) -> Result<Arc<Self>, LogError> {
        let producer: FutureProducer = config
            .producer()
            .create()
            .map_err(|e| LogError::Backend(format!("cannot create the kafka producer: {e}")))?;
        let admin: AdminClient<DefaultClientContext> = config
            .admin()
            .create()
            .map_err(|e| LogError::Backend(format!("cannot create the kafka admin client: {e}")))?;
        let log = Arc::new(Self {
            readers: Arc::new(Readers::new(config.reader())),
            config,
            producer,
            admin,
            groups: Mutex::new(HashMap::new()),
            specs: Mutex::new(HashMap::new()),
            acked: Mutex::new(HashMap::new()),
        });
        let p = log.producer.clone();
        let timeout = log.config.timeout;
        tokio::task::spawn_blocking(move || p.client().fetch_metadata(None, timeout))
            .await
            .map_err(joined)?
            .map_err(|e| {
                LogError::Backend(format!(
                    "kafka brokers at {} do not answer: {e}",
                    log.config.bootstrap
                ))
            })?;
        Ok(log)
    }

    /// Records the spec of a topic created outside this client (by an operator, or
    /// a test cluster without CreateTopics), so its settings are not looked up.
    pub fn assume_topic(&self, spec: TopicSpec) {
        lock(&self.specs).insert(spec.name.clone(), spec);
    }

    /// Waits until every produced record is acknowledged (or `timeout` passes).
    pub async fn flush(&self, timeout: Duration) -> Result<(), LogError> {
        let p = self.producer.clone();
        tokio::task::spawn_blocking(move || p.flush(timeout))
            .await
            .map_err(joined)?
            .map_err(|e| LogError::Backend(format!("kafka flush: {e}")))
    }

    /// Partition count from the brokers, `None` if the topic does not exist.
    async fn partitions(&self, topic: &str) -> Result<Option<u32>, LogError> {
        let p = self.producer.clone();
        let (name, timeout) = (topic.to_owned(), self.config.timeout);
        let md =
            tokio::task::spawn_blocking(move || p.client().fetch_metadata(Some(&name), timeout))
                .await
                .map_err(joined)?
                .map_err(|e| map(&e, topic))?;
        // A topic counts once every partition has a leader: before that, produce
        // and watermark calls fail with "unknown partition".
        Ok(md
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
            .filter(|t| t.partitions().iter().all(|p| p.leader() >= 0))
            .map(|t| t.partitions().len() as u32))
    }

    /// Whether the brokers say the topic is compacted (`false` if they cannot say).
    async fn compacted(&self, topic: &str) -> bool {
        let opts = AdminOptions::new().request_timeout(Some(self.config.timeout));
        let Ok(results) = self
            .admin
            .describe_configs([&ResourceSpecifier::Topic(topic)], &opts)
            .await
        else {
            return false;
        };
        results.iter().flatten().any(|r| {
            r.entries.iter().any(|e| {
                e.name == "cleanup.policy"
                    && e.value.as_deref().is_some_and(|v| v.contains("compact"))
            })
        })
    }

    async fn spec(&self, topic: &str) -> Result<TopicSpec, LogError> {
        if let Some(s) = lock(&self.specs).get(topic) {
            return Ok(s.clone());
        }
        let partitions = self
            .partitions(topic)
            .await?
            .ok_or_else(|| LogError::UnknownTopic(topic.to_owned()))?;
        let spec = TopicSpec {
            name: topic.to_owned(),
            partitions,
            retention_ms: None,
            compacted: self.compacted(topic).await,
        };
        lock(&self.specs).insert(topic.to_owned(), spec.clone());
        Ok(spec)
    }

    async fn check_partition(&self, topic: &str, partition: u32) -> Result<TopicSpec, LogError> {
        let spec = self.spec(topic).await?;
        if partition >= spec.partitions {
            return Err(LogError::UnknownPartition {
                topic: topic.to_owned(),
                partition,
            });
        }
        Ok(spec)
    }

    /// Queues one record with librdkafka, waiting while its queue is full.
    async fn enqueue(
        &self,
        topic: &str,
        spec: &TopicSpec,
        record: &Record,
    ) -> Result<(u32, DeliveryFuture), LogError> {
        let partition = partition_for_key(record.key.as_deref(), spec.partitions);
        let mut stamped = record.headers.clone();
        ensure_traceparent(&mut stamped);
        let mut headers = OwnedHeaders::new_with_capacity(stamped.len());
        for h in &stamped {
            headers = headers.insert(KafkaHeader {
                key: &h.name,
                value: Some(&h.value[..]),
            });
        }
        let timestamp = if record.timestamp_ms == 0 {
            crate::embedded::now_ms()
        } else {
            record.timestamp_ms
        };
        loop {
            let mut fr: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic)
                .partition(partition as i32)
                .timestamp(timestamp)
                .headers(headers.clone());
            if let Some(k) = &record.key {
                fr = fr.key(&k[..]);
            }
            if let Some(v) = &record.value {
                fr = fr.payload(&v[..]);
            }
            match self.producer.send_result(fr) {
                Ok(delivery) => return Ok((partition, delivery)),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    // Backpressure: librdkafka's bounded queue is full.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((e, _)) => return Err(map(&e, topic)),
            }
        }
    }

    async fn delivered(
        &self,
        topic: &str,
        partition: u32,
        delivery: DeliveryFuture,
    ) -> Result<Ack, LogError> {
        match delivery.await {
            Ok(Ok(d)) => {
                let offset = u64::try_from(d.offset).unwrap_or(0);
                let mut acked = lock(&self.acked);
                let e = acked.entry((topic.to_owned(), partition)).or_insert(0);
                *e = (*e).max(offset + 1);
                Ok(Ack { partition, offset })
            }
            Ok(Err((e, _))) => Err(map(&e, topic)),
            Err(_) => Err(LogError::Closed),
        }
    }

    fn group(&self, group: &str) -> Result<Arc<BaseConsumer>, LogError> {
        let mut groups = lock(&self.groups);
        if let Some(c) = groups.get(group) {
            return Ok(c.clone());
        }
        let c: BaseConsumer = self.config.group(group).create().map_err(|e| {
            LogError::Backend(format!(
                "cannot create a kafka consumer for group {group}: {e}"
            ))
        })?;
        let c = Arc::new(c);
        groups.insert(group.to_owned(), c.clone());
        Ok(c)
    }
}

fn tpl(topic: &str, partition: u32, offset: Offset) -> Result<TopicPartitionList, LogError> {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition as i32, offset)
        .map_err(|e| map(&e, topic))?;
    Ok(tpl)
}

#[async_trait]
impl Log for KafkaLog {
    async fn create_topic(&self, spec: &TopicSpec) -> Result<(), LogError> {
        self.create_topic_with(
            spec,
            u32::try_from(self.config.replication).unwrap_or(1),
            &[],
        )
        .await
    }

    async fn topic(&self, name: &str) -> Result<TopicSpec, LogError> {
        self.spec(name).await
    }

    async fn append(
        &self,
        topic: &str,
        record: Record,
        _durability: Durability,
    ) -> Result<Ack, LogError> {
        // acks=all + idempotence: every acknowledged record is replicated, so
        // Written and Synced are the same here.
        let spec = self.spec(topic).await?;
        let (partition, delivery) = self.enqueue(topic, &spec, &record).await?;
        self.delivered(topic, partition, delivery).await
    }

    async fn append_batch(
        &self,
        topic: &str,
        records: Vec<Record>,
        _durability: Durability,
    ) -> Vec<Result<Ack, LogError>> {
        let spec = match self.spec(topic).await {
            Ok(s) => s,
            Err(e) => {
                let msg = e.to_string();
                return records
                    .iter()
                    .map(|_| match &e {
                        LogError::UnknownTopic(t) => Err(LogError::UnknownTopic(t.clone())),
                        _ => Err(LogError::Backend(msg.clone())),
                    })
                    .collect();
            }
        };
        let mut pending = Vec::with_capacity(records.len());
        for r in &records {
            pending.push(self.enqueue(topic, &spec, r).await);
        }
        let mut out = Vec::with_capacity(pending.len());
        for p in pending {
            out.push(match p {
                Ok((partition, delivery)) => self.delivered(topic, partition, delivery).await,
                Err(e) => Err(e),
            });
        }
        out
    }

    async fn read(
        &self,
        topic: &str,
        partition: u32,
        from: u64,
        max: usize,
        wait: Option<Duration>,
    ) -> Result<Vec<StoredRecord>, LogError> {
        self.check_partition(topic, partition).await?;
        let end = if wait.is_none() {
            self.end_offset(topic, partition).await?
        } else {
            u64::MAX
        };
        let mut reader = self.readers.take(topic, partition, from)?;
        let readers = self.readers.clone();
        let name = topic.to_owned();
        tokio::task::spawn_blocking(move || {
            let result = reader.read(&name, partition, from, max, wait, end);
            readers.give_back(&name, partition, reader);
            result
        })
        .await
        .map_err(joined)?
    }

    async fn end_offset(&self, topic: &str, partition: u32) -> Result<u64, LogError> {
        self.check_partition(topic, partition).await?;
        let p = self.producer.clone();
        let (name, timeout) = (topic.to_owned(), self.config.timeout);
        let (_, high) = tokio::task::spawn_blocking(move || {
            p.client()
                .fetch_watermarks(&name, partition as i32, timeout)
        })
        .await
        .map_err(joined)?
        .map_err(|e| map(&e, topic))?;
        let acked = lock(&self.acked)
            .get(&(topic.to_owned(), partition))
            .copied()
            .unwrap_or(0);
        Ok(u64::try_from(high).unwrap_or(0).max(acked))
    }

    async fn commit(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
        next_offset: u64,
    ) -> Result<(), LogError> {
        validate_name(group).map_err(LogError::InvalidGroupName)?;
        self.check_partition(topic, partition).await?;
        let consumer = self.group(group)?;
        let list = tpl(
            topic,
            partition,
            Offset::Offset(i64::try_from(next_offset).unwrap_or(i64::MAX)),
        )?;
        let name = topic.to_owned();
        tokio::task::spawn_blocking(move || consumer.commit(&list, CommitMode::Sync))
            .await
            .map_err(joined)?
            .map_err(|e| map(&e, &name))
    }

    async fn committed(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Result<Option<u64>, LogError> {
        validate_name(group).map_err(LogError::InvalidGroupName)?;
        self.check_partition(topic, partition).await?;
        let consumer = self.group(group)?;
        let list = tpl(topic, partition, Offset::Invalid)?;
        let (name, timeout) = (topic.to_owned(), self.config.timeout);
        let got = tokio::task::spawn_blocking(move || consumer.committed_offsets(list, timeout))
            .await
            .map_err(joined)?
            .map_err(|e| map(&e, &name))?;
        Ok(got
            .find_partition(topic, partition as i32)
            .and_then(|e| match e.offset() {
                Offset::Offset(n) => u64::try_from(n).ok(),
                _ => None,
            }))
    }

    async fn native_subscription(
        &self,
        group: &str,
        topic: &str,
    ) -> Result<Option<Box<dyn crate::Subscription>>, LogError> {
        self.spec(topic).await?;
        let sub = group::KafkaSubscription::new(self.config.group(group), topic)?;
        Ok(Some(Box::new(sub)))
    }

    async fn compact(&self, topic: &str) -> Result<(), LogError> {
        // The brokers compact compacted topics on their own schedule.
        self.spec(topic).await.map(|_| ())
    }
}

fn mismatch(spec: &TopicSpec, existing: u32) -> Result<(), LogError> {
    if existing == spec.partitions {
        Ok(())
    } else {
        Err(LogError::TopicMismatch {
            topic: spec.name.clone(),
            existing,
            requested: spec.partitions,
        })
    }
}
