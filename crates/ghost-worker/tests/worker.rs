//! The worker loop against the embedded log and a real Kafka-protocol broker:
//! undecodable and rejected records are dead-lettered with their reason, a
//! transiently failing batch is retried (never dead-lettered), commits follow
//! durable outputs, and a restarted worker resumes after its commits.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

mod common;

use async_trait::async_trait;
use bytes::Bytes;
use common::{capture, count, wait_committed, wait_for};
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog};
use ghost_log::kafka::{KafkaConfig, KafkaLog};
use ghost_log::{Durability, Record, SharedLog};
use ghost_schema::CaptureRecord;
use ghost_topics::{CAPTURES, DEAD_LETTER, SCRUBBED, Topic};
use ghost_worker::{
    Handled, Health, HealthState, Input, Output, Rejected, Shutdown, Transient, Worker,
    WorkerConfig,
};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Copies each capture's id to the output topic; service `reject` can never be
/// handled; a batch holding service `flaky` fails twice before it succeeds.
#[derive(Default)]
struct Copier {
    seen: AtomicUsize,
    flaky_failures: Mutex<u32>,
}

#[async_trait]
impl Worker for Copier {
    type Input = CaptureRecord;

    fn name(&self) -> &'static str {
        "copier"
    }

    fn input(&self) -> Topic<CaptureRecord> {
        CAPTURES
    }

    async fn handle_batch(&self, batch: &[Input<CaptureRecord>]) -> Result<Handled, Transient> {
        if batch.iter().any(|i| i.value.service == "flaky") {
            let mut f = self.flaky_failures.lock().unwrap();
            if *f < 2 {
                *f += 1;
                return Err(Transient("store busy".into()));
            }
        }
        self.seen.fetch_add(batch.len(), Ordering::SeqCst);
        let mut h = Handled::default();
        for (index, i) in batch.iter().enumerate() {
            if i.value.service == "reject" {
                h.rejected.push(Rejected {
                    index,
                    reason: "cannot handle this one".into(),
                });
                continue;
            }
            h.outputs.push(Output {
                topic: SCRUBBED.name(),
                record: Record {
                    key: Some(Bytes::from(i.value.service.clone())),
                    value: Some(Bytes::from(i.value.id.clone())),
                    ..Record::default()
                },
            });
        }
        Ok(h)
    }
}

fn config() -> WorkerConfig {
    WorkerConfig {
        backoff: Duration::from_millis(5),
        poll_wait: Duration::from_millis(100),
        ..WorkerConfig::default()
    }
}

async fn scenario(log: SharedLog) {
    CAPTURES.ensure(&*log).await.unwrap();
    SCRUBBED.ensure(&*log).await.unwrap();
    for i in 0..100 {
        let record = match i {
            13 => Record {
                key: Some(Bytes::from_static(b"poison")),
                value: Some(Bytes::from_static(b"not avro at all")),
                ..Record::default()
            },
            42 => CAPTURES.record(&capture("flaky", i), None).unwrap(),
            77 => CAPTURES.record(&capture("reject", i), None).unwrap(),
            _ => CAPTURES.record(&capture("users", i), None).unwrap(),
        };
        log.append(CAPTURES.name(), record, Durability::Written)
            .await
            .unwrap();
    }

    let worker = Copier::default();
    let (trigger, shutdown) = Shutdown::new();
    let health = Health::default();
    let run = ghost_worker::run(log.clone(), &worker, config(), shutdown, health.clone());
    let checker = async {
        wait_for(&log, SCRUBBED.name(), 98).await;
        wait_for(&log, DEAD_LETTER.name(), 2).await;
        wait_committed(&log, "copier", CAPTURES.name()).await;
        trigger.trigger(Duration::from_secs(10));
    };
    let (result, ()) = tokio::join!(run, checker);
    result.unwrap();
    assert_eq!(health.get().0, HealthState::Stopped);
    assert_eq!(
        count(&log, SCRUBBED.name()).await,
        98,
        "every handleable record once"
    );
    let dlq = common::read_all(&log, DEAD_LETTER.name()).await;
    assert_eq!(dlq.len(), 2);
    let reason = |key: &[u8]| {
        let r = dlq.iter().find(|r| r.key.as_deref() == Some(key)).unwrap();
        String::from_utf8(r.header("ghost-dlq-reason").unwrap().to_vec()).unwrap()
    };
    assert!(
        reason(b"poison").contains("is not decodable"),
        "{}",
        reason(b"poison")
    );
    assert_eq!(reason(b"reject"), "cannot handle this one");
    let poison = dlq
        .iter()
        .find(|r| r.key.as_deref() == Some(&b"poison"[..]))
        .unwrap();
    assert_eq!(
        poison.value.as_deref(),
        Some(&b"not avro at all"[..]),
        "the bytes are kept"
    );

    // A restarted worker resumes after the commits: given one new record, that
    // record is the only one it handles.
    let again = Copier::default();
    let (trigger, shutdown) = Shutdown::new();
    let run = ghost_worker::run(log.clone(), &again, config(), shutdown, Health::default());
    let stop = async {
        let r = CAPTURES.record(&capture("users", 1000), None).unwrap();
        log.append(CAPTURES.name(), r, Durability::Written)
            .await
            .unwrap();
        wait_for(&log, SCRUBBED.name(), 99).await;
        trigger.trigger(Duration::from_secs(10));
    };
    let (r, ()) = tokio::join!(run, stop);
    r.unwrap();
    assert_eq!(
        again.seen.load(Ordering::SeqCst),
        1,
        "committed records were redelivered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_worker_dead_letters_retries_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let log: SharedLog = EmbeddedLog::open(EmbeddedConfig::new(dir.path()))
        .await
        .unwrap();
    scenario(log).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_worker_dead_letters_retries_and_resumes() {
    let broker = ghost_test_util::Broker::start();
    let log: SharedLog = KafkaLog::connect(KafkaConfig::new(broker.bootstrap.clone()))
        .await
        .unwrap();
    scenario(log).await;
}
