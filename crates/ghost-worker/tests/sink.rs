//! A sink worker whose store is down for 5 s loses nothing and dead-letters
//! nothing: the member pauses and backs off (health Degraded) and resumes when
//! the store is back; a permanently bad record is dead-lettered with its
//! reason and the partition moves on.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

mod common;

use async_trait::async_trait;
use common::{capture, count, read_all, wait_committed};
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog};
use ghost_log::{Durability, SharedLog};
use ghost_schema::CaptureRecord;
use ghost_topics::{CAPTURES, DEAD_LETTER, Topic};
use ghost_worker::{
    Handled, Health, HealthState, Input, Rejected, Shutdown, Transient, Worker, WorkerConfig,
};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A store keyed by capture id that refuses every write until `up_at`.
struct Store {
    up_at: Instant,
    rows: Mutex<HashMap<String, String>>,
    refused: Mutex<u32>,
}

struct Sink {
    store: Store,
}

#[async_trait]
impl Worker for Sink {
    type Input = CaptureRecord;

    fn name(&self) -> &'static str {
        "sink"
    }

    fn input(&self) -> Topic<CaptureRecord> {
        CAPTURES
    }

    async fn handle_batch(&self, batch: &[Input<CaptureRecord>]) -> Result<Handled, Transient> {
        if Instant::now() < self.store.up_at {
            *self.store.refused.lock().unwrap() += 1;
            return Err(Transient("connection refused".into()));
        }
        let mut h = Handled::default();
        let mut rows = self.store.rows.lock().unwrap();
        for (index, i) in batch.iter().enumerate() {
            if i.value.service == "bad" {
                h.rejected.push(Rejected {
                    index,
                    reason: "violates a check constraint".into(),
                });
                continue;
            }
            // Idempotent by id, like an upsert.
            rows.insert(i.value.id.clone(), i.value.uri.clone());
        }
        Ok(h)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outage_pauses_the_sink_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log: SharedLog = EmbeddedLog::open(EmbeddedConfig::new(dir.path()))
        .await
        .unwrap();
    CAPTURES.ensure(&*log).await.unwrap();
    let n = 300;
    for i in 0..n {
        let service = if i == 150 { "bad" } else { "users" };
        let r = CAPTURES.record(&capture(service, i), None).unwrap();
        log.append(CAPTURES.name(), r, Durability::Written)
            .await
            .unwrap();
    }
    let started = Instant::now();
    let sink = Sink {
        store: Store {
            up_at: started + Duration::from_secs(5),
            rows: Mutex::new(HashMap::new()),
            refused: Mutex::new(0),
        },
    };
    let config = WorkerConfig {
        batch: 64,
        backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(800),
        ..WorkerConfig::default()
    };
    let (trigger, shutdown) = Shutdown::new();
    let health = Health::default();
    let run = ghost_worker::run(log.clone(), &sink, config, shutdown, health.clone());
    let checker = async {
        // Degraded while the store is down...
        while health.get().0 != HealthState::Degraded {
            assert!(started.elapsed() < Duration::from_secs(5), "never degraded");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            count(&log, DEAD_LETTER.name()).await,
            0,
            "nothing dead-lettered during the outage"
        );
        // ...and everything lands once it is back.
        wait_committed(&log, "sink", CAPTURES.name()).await;
        assert_eq!(health.get().0, HealthState::Running);
        trigger.trigger(Duration::from_secs(10));
    };
    let (result, ()) = tokio::join!(run, checker);
    result.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(5));
    assert!(
        *sink.store.refused.lock().unwrap() >= 3,
        "the sink was retried while down"
    );
    {
        let rows = sink.store.rows.lock().unwrap();
        assert_eq!(rows.len(), n as usize - 1, "every good record stored once");
        assert!(!rows.contains_key("cap-150"));
    }
    let dlq = read_all(&log, DEAD_LETTER.name()).await;
    assert_eq!(dlq.len(), 1, "only the permanently bad record");
    let header = |name: &str| String::from_utf8(dlq[0].header(name).unwrap().to_vec()).unwrap();
    assert_eq!(header("ghost-dlq-reason"), "violates a check constraint");
    assert_eq!(header("ghost-dlq-worker"), "sink");
    assert_eq!(header("ghost-dlq-topic"), CAPTURES.name());
}
