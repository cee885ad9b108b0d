//! Helpers shared by the worker platform's tests.

#![allow(dead_code, reason = "each test binary uses a subset")]

use ghost_log::{SharedLog, StoredRecord};
use ghost_schema::CaptureRecord;
use std::time::Duration;

pub fn capture(service: &str, i: u32) -> CaptureRecord {
    CaptureRecord {
        tenant: "default".into(),
        id: format!("cap-{i}"),
        service: service.into(),
        session_id: "s".into(),
        method: "GET".into(),
        uri: format!("/items/{i}"),
        request_headers: vec![],
        request_body: vec![],
        status: 200,
        response_headers: vec![],
        response_body: b"{}".to_vec(),
        started_at_us: 1_700_000_000_000_000,
        duration_us: 1,
        upstream: "http://127.0.0.1:1".into(),
        http_version: "HTTP/1.1".into(),
        body_truncated: false,
        upstream_http_version: "HTTP/1.1".into(),
    }
}

pub async fn read_all(log: &SharedLog, topic: &str) -> Vec<StoredRecord> {
    let spec = log.topic(topic).await.unwrap();
    let mut out = Vec::new();
    for p in 0..spec.partitions {
        let end = log.end_offset(topic, p).await.unwrap();
        let mut from = 0;
        while from < end {
            let got = log.read(topic, p, from, 1000, None).await.unwrap();
            let Some(last) = got.last() else { break };
            from = last.offset + 1;
            out.extend(got);
        }
    }
    out
}

pub async fn count(log: &SharedLog, topic: &str) -> usize {
    read_all(log, topic).await.len()
}

pub async fn wait_for(log: &SharedLog, topic: &str, want: usize) {
    // Generous: a consumer-group rebalance on a loaded 2-core machine can take
    // tens of seconds against tansu.
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

/// Waits until `group` committed every partition of `topic` to its end.
pub async fn wait_committed(log: &SharedLog, group: &str, topic: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let partitions = log.topic(topic).await.unwrap().partitions;
    loop {
        let mut done = true;
        for p in 0..partitions {
            let end = log.end_offset(topic, p).await.unwrap();
            let committed = log.committed(group, topic, p).await.unwrap().unwrap_or(0);
            done &= committed >= end;
        }
        if done {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "commits never reached the end"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
