//! Runs the backend-generic conformance checks against the embedded log, one test per
//! check on a fresh log in its own temporary directory.

// Test helpers outside #[test] functions fail loudly too; clippy only exempts the
// test functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ghost_log::conformance;
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog, FsyncPolicy};
use std::sync::Arc;

/// Small segments so that every check also reads across segment boundaries and
/// compaction has closed segments to work on.
async fn fresh() -> (tempfile::TempDir, Arc<EmbeddedLog>) {
    let dir = tempfile::tempdir().unwrap();
    let config = EmbeddedConfig::new(dir.path()).with_segment_bytes(2048);
    let log = EmbeddedLog::open(config).await.unwrap();
    (dir, log)
}

macro_rules! checks {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (_dir, log) = fresh().await;
                conformance::$check(&*log, "conf").await;
            }
        )*
    };
}

checks!(
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

/// The whole suite on one shared log with the default segment size, fsyncing every
/// commit, on a single-threaded runtime.
#[tokio::test]
async fn run_all_on_one_log_with_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let config = EmbeddedConfig::new(dir.path()).with_fsync(FsyncPolicy::Always);
    let log = EmbeddedLog::open(config).await.unwrap();
    conformance::run_all(&*log, "a").await;
    conformance::run_all(&*log, "b").await;
    log.flush().await.unwrap();
}

/// Separate tasks (not just concurrent futures) appending through shared handles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_from_spawned_tasks() {
    use ghost_log::{Durability, Log, Record, TopicSpec};
    let (_dir, log) = fresh().await;
    log.create_topic(&TopicSpec::new("spawned", 2))
        .await
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..8 {
        let log = Arc::clone(&log);
        tasks.spawn(async move {
            let mut acks = Vec::new();
            for i in 0..50 {
                let record = Record {
                    key: Some(format!("{task}-{}", i % 3).into()),
                    value: Some(format!("{task}/{i}").into()),
                    ..Record::default()
                };
                let durability = if i % 10 == 0 {
                    Durability::Synced
                } else {
                    Durability::Written
                };
                acks.push(log.append("spawned", record, durability).await.unwrap());
            }
            acks
        });
    }
    let mut seen = std::collections::HashSet::new();
    while let Some(acks) = tasks.join_next().await {
        for ack in acks.unwrap() {
            assert!(seen.insert((ack.partition, ack.offset)));
        }
    }
    let mut total = 0;
    for p in 0..2 {
        let end = log.end_offset("spawned", p).await.unwrap();
        let records = log.read("spawned", p, 0, usize::MAX, None).await.unwrap();
        assert_eq!(records.len() as u64, end);
        total += end;
    }
    assert_eq!(total, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_resumes_from_commit() {
    let (_dir, log) = fresh().await;
    let log: ghost_log::SharedLog = log;
    conformance::subscription_resumes_from_commit(&log, "conf").await;
}
