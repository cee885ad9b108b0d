//! Kafka consumer-group subscriptions: members of one group share a topic's
//! partitions (the brokers assign them), offsets are stored only by an explicit
//! commit after the records were handled (never librdkafka's auto-store).
//!
//! Draining on rebalance follows from the worker loop's order: poll → handle →
//! commit → poll. Rebalance callbacks run inside `poll`, so by then the previous
//! batch is committed. A commit for a partition this member lost is skipped: the
//! new owner resumes from the last commit (at-least-once, idempotent sinks).

use super::error::{joined, map};
use crate::{LogError, StoredRecord, Subscription};
use async_trait::async_trait;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) struct KafkaSubscription {
    consumer: Arc<BaseConsumer>,
    topic: String,
}

impl KafkaSubscription {
    pub fn new(mut config: ClientConfig, topic: &str) -> Result<Self, LogError> {
        // A member killed without leaving holds its partitions until its session
        // expires: keep that short (6 s is the brokers' default minimum).
        config
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "1500");
        let consumer: BaseConsumer = config
            .create()
            .map_err(|e| LogError::Backend(format!("cannot create a kafka group consumer: {e}")))?;
        consumer.subscribe(&[topic]).map_err(|e| map(&e, topic))?;
        Ok(Self {
            consumer: Arc::new(consumer),
            topic: topic.to_owned(),
        })
    }
}

#[async_trait]
impl Subscription for KafkaSubscription {
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<StoredRecord>, LogError> {
        let consumer = self.consumer.clone();
        let topic = self.topic.clone();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let mut out = Vec::new();
            while out.len() < max {
                let timeout = if out.is_empty() {
                    match wait.checked_sub(started.elapsed()) {
                        Some(left) => left,
                        None => break,
                    }
                } else {
                    Duration::ZERO
                };
                match consumer.poll(timeout) {
                    None => {
                        if !out.is_empty() || started.elapsed() >= wait {
                            break;
                        }
                    }
                    Some(Err(KafkaError::PartitionEOF(_))) => {}
                    Some(Err(e)) => return Err(map(&e, &topic)),
                    Some(Ok(msg)) => out.push(super::reader::stored_message(&msg)),
                }
            }
            Ok(out)
        })
        .await
        .map_err(joined)?
    }

    async fn commit(&mut self, partition: u32, next_offset: u64) -> Result<(), LogError> {
        if !self.assignment().contains(&partition) {
            tracing::debug!(
                partition,
                "commit skipped: partition no longer assigned to this member"
            );
            return Ok(());
        }
        let mut list = TopicPartitionList::new();
        let offset = Offset::Offset(i64::try_from(next_offset).unwrap_or(i64::MAX));
        list.add_partition_offset(&self.topic, partition as i32, offset)
            .map_err(|e| map(&e, &self.topic))?;
        let consumer = self.consumer.clone();
        let topic = self.topic.clone();
        tokio::task::spawn_blocking(move || consumer.commit(&list, CommitMode::Sync))
            .await
            .map_err(joined)?
            .map_err(|e| map(&e, &topic))
    }

    async fn close(&mut self) {
        let consumer = self.consumer.clone();
        // Unsubscribing sends LeaveGroup; polling serves the resulting rebalance
        // callbacks so the revocation completes before the consumer is dropped.
        let _ = tokio::task::spawn_blocking(move || {
            consumer.unsubscribe();
            let deadline = Instant::now() + Duration::from_secs(5);
            while !consumer
                .assignment()
                .map(|a| a.count() == 0)
                .unwrap_or(true)
                && Instant::now() < deadline
            {
                let _ = consumer.poll(Duration::from_millis(50));
            }
        })
        .await;
    }

    fn assignment(&self) -> Vec<u32> {
        self.consumer
            .assignment()
            .map(|tpl| {
                tpl.elements()
                    .iter()
                    .filter(|e| e.topic() == self.topic)
                    .filter_map(|e| u32::try_from(e.partition()).ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}
