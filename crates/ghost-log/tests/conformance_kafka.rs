//! The log conformance suite against the Kafka backend, twice: rdkafka's
//! in-process mock cluster (fast, unit level) and a real Kafka-protocol broker
//! process (tansu, started by the project's script; or `GHOST_TEST_KAFKA`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use async_trait::async_trait;
use ghost_log::conformance;
use ghost_log::kafka::{KafkaConfig, KafkaLog};
use ghost_log::{Ack, Durability, Log, LogError, Record, StoredRecord, TopicSpec};
use ghost_test_util::Broker;
use rdkafka::mocking::MockCluster;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

fn ns() -> String {
    // Topics live as long as the broker: never reuse a name.
    format!("t{}", uuid::Uuid::new_v4().simple())
}

async fn connect(bootstrap: &str) -> Arc<KafkaLog> {
    KafkaLog::connect(KafkaConfig::new(bootstrap))
        .await
        .unwrap()
}

/// rdkafka's mock cluster answers produce, fetch, metadata and group requests but
/// not CreateTopics, so topics are created through the cluster's own call. Its
/// handle is not `Send`; it lives on a thread that creates topics on request.
/// (topic, partitions, where to answer).
type CreateRequest = (String, i32, mpsc::Sender<Result<(), String>>);

struct MockLog {
    inner: Arc<KafkaLog>,
    create: Mutex<mpsc::Sender<CreateRequest>>,
    specs: Mutex<HashMap<String, TopicSpec>>,
}

fn valid(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

#[async_trait]
impl Log for MockLog {
    async fn create_topic(&self, spec: &TopicSpec) -> Result<(), LogError> {
        if !valid(&spec.name) {
            return Err(LogError::InvalidTopicName(spec.name.clone()));
        }
        if let Ok(existing) = self.inner.topic(&spec.name).await {
            if existing.partitions != spec.partitions {
                return Err(LogError::TopicMismatch {
                    topic: spec.name.clone(),
                    existing: existing.partitions,
                    requested: spec.partitions,
                });
            }
            return Ok(());
        }
        let (tx, rx) = mpsc::channel();
        self.create
            .lock()
            .unwrap()
            .send((spec.name.clone(), spec.partitions as i32, tx))
            .unwrap();
        rx.recv().unwrap().map_err(LogError::Backend)?;
        self.specs
            .lock()
            .unwrap()
            .insert(spec.name.clone(), spec.clone());
        self.inner.assume_topic(spec.clone());
        // Wait until the new topic shows in metadata.
        for _ in 0..100 {
            let mut ready = true;
            for p in 0..spec.partitions {
                ready &= self.inner.end_offset(&spec.name, p).await.is_ok();
            }
            if ready {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(LogError::Backend(format!("{} not visible", spec.name)))
    }
    async fn topic(&self, name: &str) -> Result<TopicSpec, LogError> {
        let known = self.specs.lock().unwrap().get(name).cloned();
        match known {
            Some(s) => Ok(s),
            None => self.inner.topic(name).await,
        }
    }
    async fn append(&self, t: &str, r: Record, d: Durability) -> Result<Ack, LogError> {
        self.inner.append(t, r, d).await
    }
    async fn append_batch(
        &self,
        t: &str,
        r: Vec<Record>,
        d: Durability,
    ) -> Vec<Result<Ack, LogError>> {
        self.inner.append_batch(t, r, d).await
    }
    async fn read(
        &self,
        t: &str,
        p: u32,
        from: u64,
        max: usize,
        wait: Option<Duration>,
    ) -> Result<Vec<StoredRecord>, LogError> {
        self.inner.read(t, p, from, max, wait).await
    }
    async fn end_offset(&self, t: &str, p: u32) -> Result<u64, LogError> {
        self.inner.end_offset(t, p).await
    }
    async fn commit(&self, g: &str, t: &str, p: u32, o: u64) -> Result<(), LogError> {
        self.inner.commit(g, t, p, o).await
    }
    async fn committed(&self, g: &str, t: &str, p: u32) -> Result<Option<u64>, LogError> {
        self.inner.committed(g, t, p).await
    }
    async fn compact(&self, t: &str) -> Result<(), LogError> {
        self.inner.compact(t).await
    }
}

/// Starts a one-broker mock cluster on its own thread.
async fn mock_log() -> MockLog {
    let (boot_tx, boot_rx) = mpsc::channel();
    let (create_tx, create_rx) = mpsc::channel::<CreateRequest>();
    std::thread::spawn(move || {
        let cluster = MockCluster::new(1).unwrap();
        boot_tx.send(cluster.bootstrap_servers()).unwrap();
        // Runs until the test drops the sender.
        for (name, partitions, reply) in create_rx {
            let _ = reply.send(
                cluster
                    .create_topic(&name, partitions, 1)
                    .map_err(|e| e.to_string()),
            );
        }
    });
    let bootstrap = boot_rx.recv().unwrap();
    MockLog {
        inner: connect(&bootstrap).await,
        create: Mutex::new(create_tx),
        specs: Mutex::new(HashMap::new()),
    }
}

macro_rules! suite {
    ($module:ident; $($check:ident),* $(,)?) => {
        mod $module {
            use super::*;

            mod mock_cluster {
                use super::*;
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $check() {
                        let log = mock_log().await;
                        conformance::$check(&log, &ns()).await;
                    }
                )*
            }

            mod broker_process {
                use super::*;
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $check() {
                        let broker = Broker::start();
                        let log = connect(&broker.bootstrap).await;
                        conformance::$check(&*log, &ns()).await;
                    }
                )*
            }
        }
    };
}

mod subscriptions {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mock_cluster() {
        let log: ghost_log::SharedLog = Arc::new(mock_log().await);
        conformance::subscription_resumes_from_commit(&log, &ns()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn broker_process() {
        let broker = Broker::start();
        let log: ghost_log::SharedLog = connect(&broker.bootstrap).await;
        conformance::subscription_resumes_from_commit(&log, &ns()).await;
    }
}

suite!(
    kafka;
    create_topic_is_idempotent,
    invalid_names_are_rejected,
    unknown_topic_and_partition,
    append_read_round_trip,
    offsets_are_dense_per_partition,
    same_key_same_partition,
    read_from_middle,
    read_respects_max,
    read_at_end_is_empty,
    read_wait_wakes_on_append,
    read_wait_times_out_empty,
    end_offset_tracks_appends,
    commits_are_per_group,
    concurrent_appends,
    synced_appends,
    batch_appends,
    compaction_keeps_newest_per_key,
    compact_on_plain_topic_keeps_everything,
);
