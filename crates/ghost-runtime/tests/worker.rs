//! The worker loop against the embedded log and a real Kafka-protocol broker.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use async_trait::async_trait;
use bytes::Bytes;
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog};
use ghost_log::kafka::{KafkaConfig, KafkaLog};
use ghost_log::{Durability, Record, SharedLog, StoredRecord, TopicSpec};
use ghost_runtime::{
    HandleError, Handler, Health, HealthState, Output, Shutdown, WorkerConfig, run_worker,
};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Upper-cases values into `out`; "poison" can never be handled; "flaky" fails
/// twice before it succeeds.
#[derive(Default)]
struct Upper {
    seen: AtomicUsize,
    flaky: Mutex<HashMap<u64, u32>>,
}

#[async_trait]
impl Handler for Upper {
    async fn handle(&self, r: &StoredRecord) -> Result<Vec<Output>, HandleError> {
        self.seen.fetch_add(1, Ordering::SeqCst);
        let v = r.value.clone().unwrap_or_default();
        if &v[..] == b"poison" {
            return Err(HandleError::Permanent("cannot decode".into()));
        }
        if &v[..] == b"flaky" {
            let mut f = self.flaky.lock().unwrap();
            let n = f.entry(r.offset).or_insert(0);
            *n += 1;
            if *n < 3 {
                return Err(HandleError::Transient("sink busy".into()));
            }
        }
        Ok(vec![Output {
            topic: "out".into(),
            record: Record {
                key: r.key.clone(),
                value: Some(Bytes::from(v.to_ascii_uppercase())),
                ..Record::default()
            },
        }])
    }
}

async fn count(log: &SharedLog, topic: &str) -> usize {
    let spec = log.topic(topic).await.unwrap();
    let mut n = 0;
    for p in 0..spec.partitions {
        let end = log.end_offset(topic, p).await.unwrap();
        let mut from = 0;
        while from < end {
            let got = log.read(topic, p, from, 1000, None).await.unwrap();
            let Some(last) = got.last() else { break };
            from = last.offset + 1;
            n += got.len();
        }
    }
    n
}

async fn wait_for(log: &SharedLog, topic: &str, want: usize) {
    // Generous: a consumer-group rebalance on a loaded 2-core machine can take tens
    // of seconds against tansu.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        if log.topic(topic).await.is_ok() && count(log, topic).await >= want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{topic} never reached {want} records"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn scenario(log: SharedLog, input: &str) {
    log.create_topic(&TopicSpec::new(input, 2)).await.unwrap();
    log.create_topic(&TopicSpec::new("out", 2)).await.unwrap();
    let values: Vec<String> = (0..100)
        .map(|i| match i {
            13 => "poison".to_owned(),
            42 => "flaky".to_owned(),
            _ => format!("v{i}"),
        })
        .collect();
    for (i, v) in values.iter().enumerate() {
        let r = Record {
            key: Some(Bytes::from(format!("k{i}"))),
            value: Some(Bytes::from(v.clone())),
            ..Record::default()
        };
        log.append(input, r, Durability::Written).await.unwrap();
    }
    let mut config = WorkerConfig::new("upper", input);
    config.backoff = Duration::from_millis(5);
    config.poll_wait = Duration::from_millis(100);

    let handler = Upper::default();
    let (trigger, shutdown) = Shutdown::new();
    let health = Health::default();
    let worker = {
        let (log, config, health) = (log.clone(), config.clone(), health.clone());
        async move { run_worker(log, config, &handler, shutdown, health).await }
    };
    let checker = async {
        wait_for(&log, "out", 99).await;
        wait_for(&log, "ghost.deadletter.v1", 1).await;
        // Stop once the group committed everything.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let mut done = true;
            for p in 0..2 {
                let end = log.end_offset(input, p).await.unwrap();
                done &= log.committed("upper", input, p).await.unwrap() == Some(end);
            }
            if done {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "commits never reached the end"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        trigger.trigger();
    };
    let (result, ()) = tokio::join!(worker, checker);
    result.unwrap();
    assert_eq!(health.get().0, HealthState::Stopped);
    assert_eq!(count(&log, "out").await, 99, "every handleable record once");
    let dlq = log
        .read("ghost.deadletter.v1", 0, 0, 10, None)
        .await
        .unwrap();
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].value.as_deref(), Some(&b"poison"[..]));
    let reason = dlq[0].header("ghost-dlq-reason").unwrap();
    assert!(
        std::str::from_utf8(reason)
            .unwrap()
            .contains("cannot decode")
    );

    // A restarted worker resumes after the commits: given one new record, that
    // record is the only one it handles.
    let again = Upper::default();
    let (trigger, shutdown) = Shutdown::new();
    let run = run_worker(log.clone(), config, &again, shutdown, Health::default());
    let stop = async {
        let r = Record {
            key: Some(Bytes::from_static(b"new")),
            value: Some(Bytes::from_static(b"fresh")),
            ..Record::default()
        };
        log.append(input, r, Durability::Written).await.unwrap();
        wait_for(&log, "out", 100).await;
        trigger.trigger();
    };
    let (r, ()) = tokio::join!(run, stop);
    r.unwrap();
    assert_eq!(
        again.seen.load(Ordering::SeqCst),
        1,
        "committed records were redelivered"
    );
    assert_eq!(count(&log, "out").await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_worker_handles_retries_dead_letters_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let log: SharedLog = EmbeddedLog::open(EmbeddedConfig::new(dir.path()))
        .await
        .unwrap();
    scenario(log, "in").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_worker_handles_retries_dead_letters_and_resumes() {
    let broker = ghost_test_util::Broker::start();
    let log: SharedLog = KafkaLog::connect(KafkaConfig::new(broker.bootstrap.clone()))
        .await
        .unwrap();
    scenario(log, &format!("in-{}", uuid::Uuid::new_v4().simple())).await;
}
