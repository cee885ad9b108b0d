//! Embedded-backend behaviour the generic suite cannot see: what survives a reopen,
//! how torn tails and corruption are handled, segment rolling, and that compaction
//! really removes superseded records.

// Test helpers outside #[test] functions fail loudly too; clippy only exempts the
// test functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog, FsyncPolicy};
use ghost_log::{Durability, Log, LogError, Record, StoredRecord, TopicSpec};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn config(dir: &Path) -> EmbeddedConfig {
    EmbeddedConfig::new(dir)
}

async fn open(config: EmbeddedConfig) -> Arc<EmbeddedLog> {
    EmbeddedLog::open(config).await.unwrap()
}

fn record(key: &str, value: &str) -> Record {
    Record {
        key: Some(Bytes::from(key.to_owned())),
        value: Some(Bytes::from(value.to_owned())),
        ..Record::default()
    }
}

async fn append_n(log: &EmbeddedLog, topic: &str, n: usize) {
    for i in 0..n {
        log.append(
            topic,
            record("k", &format!("value-{i}")),
            Durability::Written,
        )
        .await
        .unwrap();
    }
}

async fn all(log: &EmbeddedLog, topic: &str, partition: u32) -> Vec<StoredRecord> {
    log.read(topic, partition, 0, usize::MAX, None)
        .await
        .unwrap()
}

fn segments(dir: &Path, topic: &str, partition: u32) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        fs::read_dir(dir.join("topics").join(topic).join(partition.to_string()))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "seg"))
            .collect();
    files.sort();
    files
}

fn last_segment(dir: &Path, topic: &str) -> PathBuf {
    segments(dir, topic, 0).pop().unwrap()
}

/// Opens a one-partition topic, appends `n` records, closes the log.
async fn prepare(dir: &Path, config: EmbeddedConfig, n: usize) {
    let log = open(config).await;
    log.create_topic(&TopicSpec::new("t", 1)).await.unwrap();
    append_n(&log, "t", n).await;
    log.flush().await.unwrap();
    drop(log);
    assert!(dir.join("LOCK").exists());
}

#[tokio::test]
async fn reopen_keeps_topics_records_and_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(config(dir.path()).with_fsync(FsyncPolicy::Never)).await;
    log.create_topic(&TopicSpec::new("plain", 3)).await.unwrap();
    log.create_topic(&TopicSpec::new("table", 2).compacted())
        .await
        .unwrap();
    for i in 0..30 {
        log.append(
            "plain",
            record(&format!("k{i}"), &format!("v{i}")),
            Durability::Written,
        )
        .await
        .unwrap();
    }
    append_n(&log, "table", 5).await;
    let before: Vec<_> = [0, 1, 2]
        .iter()
        .map(|&p| (p, log.end_offset("plain", p)))
        .collect();
    let mut ends = Vec::new();
    let mut records = Vec::new();
    for (p, end) in before {
        ends.push(end.await.unwrap());
        records.push(all(&log, "plain", p).await);
    }
    log.flush().await.unwrap();
    drop(log);

    let log = open(config(dir.path())).await;
    assert_eq!(
        log.topic("plain").await.unwrap(),
        TopicSpec::new("plain", 3)
    );
    assert_eq!(
        log.topic("table").await.unwrap(),
        TopicSpec::new("table", 2).compacted()
    );
    for p in 0..3u32 {
        assert_eq!(log.end_offset("plain", p).await.unwrap(), ends[p as usize]);
        assert_eq!(all(&log, "plain", p).await, records[p as usize]);
    }
    let ack = log
        .append("table", record("k", "after"), Durability::Written)
        .await
        .unwrap();
    assert_eq!(ack.offset, 5);
}

#[tokio::test]
async fn committed_offsets_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(config(dir.path())).await;
    log.create_topic(&TopicSpec::new("t", 2)).await.unwrap();
    log.commit("g1", "t", 0, 10).await.unwrap();
    log.commit("g1", "t", 1, 11).await.unwrap();
    log.commit("g2", "t", 0, 20).await.unwrap();
    log.commit("g1", "t", 0, 12).await.unwrap();
    drop(log);
    let log = open(config(dir.path())).await;
    assert_eq!(log.committed("g1", "t", 0).await.unwrap(), Some(12));
    assert_eq!(log.committed("g1", "t", 1).await.unwrap(), Some(11));
    assert_eq!(log.committed("g2", "t", 0).await.unwrap(), Some(20));
    assert_eq!(log.committed("g2", "t", 1).await.unwrap(), None);
    assert!(dir.path().join("groups/g1.json").is_file());
}

/// Reopens after damaging the tail and checks `good` records survive and the next
/// append continues right after them.
async fn assert_recovers_to(dir: &Path, good: u64) {
    let log = open(config(dir)).await;
    let records = all(&log, "t", 0).await;
    assert_eq!(
        records.iter().map(|r| r.offset).collect::<Vec<_>>(),
        (0..good).collect::<Vec<_>>()
    );
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.value.as_deref(), Some(format!("value-{i}").as_bytes()));
    }
    assert_eq!(log.end_offset("t", 0).await.unwrap(), good);
    let ack = log
        .append("t", record("k", "next"), Durability::Synced)
        .await
        .unwrap();
    assert_eq!(ack.offset, good);
    let records = all(&log, "t", 0).await;
    assert_eq!(records.len() as u64, good + 1);
    assert_eq!(records.last().unwrap().value.as_deref(), Some(&b"next"[..]));
    drop(log);
    // A second reopen finds a clean log.
    let log = open(config(dir)).await;
    assert_eq!(log.end_offset("t", 0).await.unwrap(), good + 1);
}

#[tokio::test]
async fn garbage_after_the_last_record_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path(), config(dir.path()), 5).await;
    let seg = last_segment(dir.path(), "t");
    let clean_len = fs::metadata(&seg).unwrap().len();
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&[0xA7, 1, 2, 3, 4, 200, 0, 0, 0, 9, 9])
        .unwrap();
    drop(f);
    assert_recovers_to(dir.path(), 5).await;
    assert!(
        fs::metadata(&seg).unwrap().len() > clean_len,
        "the new record follows the good ones"
    );
}

#[tokio::test]
async fn record_cut_in_half_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path(), config(dir.path()), 5).await;
    let seg = last_segment(dir.path(), "t");
    let len = fs::metadata(&seg).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 7)
        .unwrap();
    assert_recovers_to(dir.path(), 4).await;
}

#[tokio::test]
async fn zero_filled_tail_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path(), config(dir.path()), 3).await;
    let seg = last_segment(dir.path(), "t");
    let len = fs::metadata(&seg).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len + 4096)
        .unwrap();
    assert_recovers_to(dir.path(), 3).await;
}

#[tokio::test]
async fn bad_crc_in_the_tail_record_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path(), config(dir.path()), 5).await;
    let seg = last_segment(dir.path(), "t");
    let mut bytes = fs::read(&seg).unwrap();
    let last = bytes.len() - 2; // inside the value of the last record
    bytes[last] ^= 0x40;
    fs::write(&seg, &bytes).unwrap();
    assert_recovers_to(dir.path(), 4).await;
}

#[tokio::test]
async fn corruption_in_a_closed_segment_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path()).with_segment_bytes(64);
    prepare(dir.path(), cfg.clone(), 5).await;
    let segs = segments(dir.path(), "t", 0);
    assert!(
        segs.len() >= 3,
        "expected one segment per record, got {segs:?}"
    );
    let mut bytes = fs::read(&segs[1]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&segs[1], &bytes).unwrap();
    match EmbeddedLog::open(cfg).await {
        Err(LogError::Corrupt { path, detail }) => {
            assert!(path.ends_with(".seg"), "{path}");
            assert!(detail.contains("crc"), "{detail}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn stale_temp_files_are_removed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path(), config(dir.path()), 2).await;
    let stale = dir.path().join("topics/t/0/00000000000000000000.tmp");
    fs::write(&stale, b"half a compaction").unwrap();
    let log = open(config(dir.path())).await;
    assert!(!stale.exists());
    assert_eq!(all(&log, "t", 0).await.len(), 2);
}

#[tokio::test]
async fn segments_roll_and_reads_cross_them() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path()).with_segment_bytes(256);
    let log = open(cfg.clone()).await;
    log.create_topic(&TopicSpec::new("t", 1)).await.unwrap();
    append_n(&log, "t", 100).await;
    let segs = segments(dir.path(), "t", 0);
    assert!(segs.len() > 10, "only {} segments", segs.len());
    for seg in &segs {
        assert!(fs::metadata(seg).unwrap().len() <= 256);
    }
    for (from, max) in [(0, 100), (13, 7), (37, 1), (50, 1000), (99, 5)] {
        let got = log.read("t", 0, from, max, None).await.unwrap();
        let expected: Vec<u64> = (from..100).take(max).collect();
        assert_eq!(
            got.iter().map(|r| r.offset).collect::<Vec<_>>(),
            expected,
            "from {from} max {max}"
        );
    }
    let before = all(&log, "t", 0).await;
    drop(log);
    let log = open(cfg).await;
    assert_eq!(all(&log, "t", 0).await, before);
    let ack = log
        .append("t", record("k", "x"), Durability::Written)
        .await
        .unwrap();
    assert_eq!(ack.offset, 100);
}

#[tokio::test]
async fn oversized_records_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(config(dir.path()).with_max_record_bytes(1000)).await;
    log.create_topic(&TopicSpec::new("t", 1)).await.unwrap();
    let big = record("k", &"x".repeat(2000));
    match log.append("t", big, Durability::Written).await {
        Err(LogError::RecordTooLarge { size, limit: 1000 }) => assert!(size > 2000),
        other => panic!("expected RecordTooLarge, got {other:?}"),
    }
    // The limit covers the stored record, including the traceparent header the
    // log adds (~70 bytes).
    let ack = log
        .append("t", record("k", &"x".repeat(850)), Durability::Written)
        .await
        .unwrap();
    assert_eq!(ack.offset, 0);
}

#[tokio::test]
async fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = open(config(dir.path())).await;
    match EmbeddedLog::open(config(dir.path())).await {
        Err(LogError::Locked(_)) => {}
        other => panic!("expected Locked, got {other:?}"),
    }
}

/// Compaction removes every superseded record from closed segments, and the result
/// is what a reopen finds.
#[tokio::test]
async fn compaction_removes_superseded_records_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path()).with_segment_bytes(512);
    let log = open(cfg.clone()).await;
    log.create_topic(&TopicSpec::new("c", 1).compacted())
        .await
        .unwrap();
    for round in 0..10 {
        for k in 0..5 {
            log.append(
                "c",
                record(&format!("k{k}"), &format!("r{round}")),
                Durability::Written,
            )
            .await
            .unwrap();
        }
    }
    let before = all(&log, "c", 0).await;
    log.compact("c").await.unwrap();
    let after = all(&log, "c", 0).await;
    assert!(after.len() < before.len());

    // Older duplicates may only remain in the active (last) segment.
    let active = last_segment(dir.path(), "c");
    let active_base: u64 = active
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    for r in after.iter().rev() {
        let first_seen = seen.insert(r.key.clone());
        assert!(
            first_seen || r.offset >= active_base,
            "stale duplicate at {} in a closed segment",
            r.offset
        );
    }
    for k in 0..5 {
        let newest = after
            .iter()
            .rev()
            .find(|r| r.key.as_deref() == Some(format!("k{k}").as_bytes()))
            .unwrap();
        assert_eq!(newest.value.as_deref(), Some(&b"r9"[..]));
    }
    drop(log);

    let log = open(cfg).await;
    assert_eq!(all(&log, "c", 0).await, after);
    assert_eq!(log.end_offset("c", 0).await.unwrap(), 50);
    let ack = log
        .append("c", record("k0", "new"), Durability::Written)
        .await
        .unwrap();
    assert_eq!(ack.offset, 50);
    log.compact("c").await.unwrap();
    let last = all(&log, "c", 0).await;
    assert_eq!(last.last().unwrap().value.as_deref(), Some(&b"new"[..]));
}

#[tokio::test]
async fn lowering_the_record_limit_refuses_to_open_instead_of_truncating() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(config(dir.path())).await;
    log.create_topic(&TopicSpec::new("t", 1)).await.unwrap();
    log.append("t", record("k", &"x".repeat(5000)), Durability::Written)
        .await
        .unwrap();
    drop(log);
    let seg = last_segment(dir.path(), "t");
    let len = fs::metadata(&seg).unwrap().len();
    match EmbeddedLog::open(config(dir.path()).with_max_record_bytes(1000)).await {
        Err(LogError::Corrupt { detail, .. }) => {
            assert!(detail.contains("max_record_bytes"), "{detail}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(
        fs::metadata(&seg).unwrap().len(),
        len,
        "nothing was truncated"
    );
    let log = open(config(dir.path())).await;
    assert_eq!(all(&log, "t", 0).await.len(), 1);
}
