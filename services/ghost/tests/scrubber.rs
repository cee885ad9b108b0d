//! The scrubber over a real Kafka-protocol broker, killed with SIGKILL again and
//! again while 100k captures flow (GHOST_SCRUB_FAULT_CAPTURES overrides): afterwards every capture id is in
//! ghost.scrubbed.v1 (none lost), each record sealed, no raw PII left, and the
//! view deduplicated by capture id is exact.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use bytes::Bytes;
use ghost_log::kafka::{KafkaConfig, KafkaLog};
use ghost_log::trace::TraceParent;
use ghost_log::{Durability, Record, SharedLog};
use ghost_schema::seal::{Applied, SealedView};
use ghost_schema::{CaptureRecord, HeaderRecord, ScrubbedCaptureRecord};
use ghost_test_util::Broker;
use ghost_topics as topics;
use std::process::Stdio;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ghost");

fn capture(i: usize) -> CaptureRecord {
    let body = format!(
        r#"{{"id":{i},"customer":{{"email":"user{i}@example.com","card":"4111 1111 1111 1111","note":"call +1 415-555-{:04}"}},"password":"hunter{i}"}}"#,
        i % 10_000
    );
    CaptureRecord {
        tenant: "default".into(),
        id: format!("cap-{i:06}"),
        service: format!("svc{}", i % 3),
        session_id: "s".into(),
        method: "POST".into(),
        uri: format!("/customers?email=user{i}@example.com"),
        request_headers: vec![HeaderRecord {
            name: "content-type".into(),
            value: b"application/json".to_vec(),
        }],
        request_body: body.into_bytes(),
        status: 200,
        response_headers: vec![HeaderRecord {
            name: "x-contact".into(),
            value: format!("ops{i}@example.com").into_bytes(),
        }],
        response_body: b"{}".to_vec(),
        started_at_us: 1,
        duration_us: 1,
        upstream: "http://upstream".into(),
        http_version: "HTTP/1.1".into(),
        body_truncated: false,
        upstream_http_version: String::new(),
    }
}

/// A distinct, known trace per capture.
fn trace_of(i: usize) -> TraceParent {
    let mut trace_id = [0u8; 16];
    trace_id[8..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    TraceParent {
        trace_id,
        span_id: [0xab; 8],
        flags: 1,
    }
}

fn worker(url: &str) -> tokio::process::Child {
    tokio::process::Command::new(BIN)
        .args(["worker", "scrub", "--log", url])
        .env("GHOST_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn committed_all(log: &SharedLog) -> (u64, u64) {
    let (mut done, mut total) = (0, 0);
    for p in 0..topics::CAPTURES.spec().unwrap().partitions {
        let end = log.end_offset(topics::CAPTURES.name(), p).await.unwrap();
        let c = log
            .committed("scrubber", topics::CAPTURES.name(), p)
            .await
            .unwrap()
            .unwrap_or(0);
        done += c.min(end);
        total += end;
    }
    (done, total)
}

/// A tansu broker with `ghost topics apply` done, its URL and a log client.
async fn broker_with_topics() -> (Broker, String, SharedLog) {
    let broker = Broker::start();
    let url = format!("kafka://{}", broker.bootstrap);
    let out = std::process::Command::new(BIN)
        .args(["topics", "apply", "--log", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log: SharedLog = KafkaLog::connect(KafkaConfig::new(broker.bootstrap.clone()))
        .await
        .unwrap();
    (broker, url, log)
}

/// Capture `i` as a log record, traced with [`trace_of`].
fn capture_record(i: usize) -> Record {
    let c = capture(i);
    Record {
        key: Some(Bytes::from(c.service.clone())),
        value: Some(Bytes::from(ghost_schema::encode(&c).unwrap())),
        headers: vec![trace_of(i).header()],
        ..Record::default()
    }
}

/// Waits until all `n` captures exist and the scrubber group committed them all.
async fn wait_all_committed(log: &SharedLog, n: usize, timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let (done, total) = committed_all(log).await;
        if total as usize == n && done == total {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "scrubber stuck at {done}/{total}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrubber_survives_repeated_kill_9_and_loses_nothing() {
    let n: usize = std::env::var("GHOST_SCRUB_FAULT_CAPTURES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let (_broker, url, log) = broker_with_topics().await;

    // Captures keep arriving while the scrubber is killed and restarted.
    let producer = {
        let log = log.clone();
        tokio::spawn(async move {
            for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
                let records = chunk.iter().map(|&i| capture_record(i)).collect();
                for r in log
                    .append_batch(topics::CAPTURES.name(), records, Durability::Synced)
                    .await
                {
                    r.unwrap();
                }
            }
        })
    };
    let mut kills = 0;
    while kills < 4 {
        let mut w = worker(&url);
        // Let it make some progress (or at least join), then SIGKILL it mid-stream.
        let before = committed_all(&log).await.0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while committed_all(&log).await.0 == before && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        w.kill().await.unwrap();
        kills += 1;
    }
    producer.await.unwrap();

    // A last worker settles the stream.
    let _w = worker(&url);
    wait_all_committed(&log, n, Duration::from_secs(300)).await;

    let mut view = SealedView::default();
    let mut records = 0;
    for p in 0..topics::CAPTURES.spec().unwrap().partitions {
        // Read until nothing more arrives: this process did not produce to the
        // topic, and tansu's high watermark undercounts (it advances per batch).
        let mut from = 0;
        loop {
            let batch = log
                .read(
                    topics::SCRUBBED.name(),
                    p,
                    from,
                    2000,
                    Some(Duration::from_secs(2)),
                )
                .await
                .unwrap();
            let Some(last) = batch.last() else { break };
            from = last.offset + 1;
            for r in batch {
                let s: ScrubbedCaptureRecord =
                    ghost_schema::decode(r.value.as_ref().unwrap()).unwrap();
                // The scrubbed record is the next hop of its capture's trace.
                let i: usize = s.id.trim_start_matches("cap-").parse().unwrap();
                let trace = TraceParent::of(&r.headers).expect("traceparent on every record");
                assert_eq!(trace.trace_id, trace_of(i).trace_id, "trace of {}", s.id);
                assert_ne!(
                    trace.span_id,
                    trace_of(i).span_id,
                    "a new span for {}",
                    s.id
                );
                assert!(s.scrubbed_at_us > 0, "sealed");
                let text = String::from_utf8_lossy(&s.request_body).to_string() + &s.uri;
                assert!(
                    !text.contains("@example.com")
                        && !text.contains("4111 1111")
                        && !text.contains("hunter"),
                    "raw PII left: {text}"
                );
                assert!(
                    s.findings.iter().any(|f| f.category == "email"),
                    "{:?}",
                    s.findings
                );
                records += 1;
                assert_ne!(view.apply(s), Applied::Unsealed);
            }
        }
    }
    assert_eq!(
        view.len(),
        n,
        "every capture scrubbed ({records} records incl. redeliveries)"
    );
    eprintln!(
        "scrubber fault test: {n} captures, {kills} kills, {records} scrubbed records, {} duplicates from redelivery",
        records - n
    );
}

/// Starts `ghost worker scrub` with its log on a pipe; the returned watch holds
/// the partitions it last reported owning.
fn logged_worker(
    url: &str,
) -> (
    tokio::process::Child,
    tokio::sync::watch::Receiver<Vec<u32>>,
) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(BIN)
        .args(["worker", "scrub", "--log", url])
        .env("GHOST_LOG_LEVEL", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (tx, rx) = tokio::sync::watch::channel(Vec::new());
    let stderr = child.stderr.take().unwrap();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let Some((_, rest)) = line.split_once("partitions=[") else {
                continue;
            };
            let list = rest.split(']').next().unwrap_or("");
            let parts = list
                .split(',')
                .filter_map(|p| p.trim().parse().ok())
                .collect();
            tx.send_replace(parts);
        }
    });
    (child, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_scrubber_processes_split_the_kafka_partitions() {
    let n = 4_000;
    let (_broker, url, log) = broker_with_topics().await;
    let (_a, mut a) = logged_worker(&url);
    let (_b, mut b) = logged_worker(&url);
    let records = (0..n).map(capture_record).collect();
    for r in log
        .append_batch(topics::CAPTURES.name(), records, Durability::Synced)
        .await
    {
        r.unwrap();
    }
    // Both members own a share: disjoint, non-empty, together every partition.
    let all: Vec<u32> = (0..topics::CAPTURES.spec().unwrap().partitions).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (pa, pb) = (a.borrow_and_update().clone(), b.borrow_and_update().clone());
        let mut union: Vec<u32> = pa.iter().chain(&pb).copied().collect();
        union.sort_unstable();
        if !pa.is_empty() && !pb.is_empty() && union == all {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "partitions not split between the two workers: {pa:?} / {pb:?}"
        );
        tokio::select! {
            _ = a.changed() => {}
            _ = b.changed() => {}
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
    // And between them they scrub everything.
    wait_all_committed(&log, n, Duration::from_secs(120)).await;
}
