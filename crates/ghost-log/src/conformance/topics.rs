//! Checks of topic management, record round trips and key partitioning.

use super::{append, bytes, keyed, read_all, topic};
use crate::trace::{TRACEPARENT, TraceParent};
use crate::{Durability, Header, Log, LogError, Record, TopicSpec, partition_for_key};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// `create_topic` twice with the same spec is fine; a different partition count is
/// `TopicMismatch`; `topic` returns the spec.
pub async fn create_topic_is_idempotent(log: &dyn Log, ns: &str) {
    let spec = TopicSpec::new(format!("{ns}.create"), 3);
    log.create_topic(&spec).await.unwrap();
    log.create_topic(&spec).await.unwrap();
    assert_eq!(log.topic(&spec.name).await.unwrap(), spec);
    let other = TopicSpec::new(spec.name.clone(), 4);
    match log.create_topic(&other).await {
        Err(LogError::TopicMismatch {
            existing: 3,
            requested: 4,
            ..
        }) => {}
        other => panic!("expected TopicMismatch, got {other:?}"),
    }
    assert_eq!(log.topic(&spec.name).await.unwrap().partitions, 3);
    let compacted = TopicSpec::new(format!("{ns}.create-compacted"), 2).compacted();
    log.create_topic(&compacted).await.unwrap();
    assert_eq!(log.topic(&compacted.name).await.unwrap(), compacted);
}

/// Topic and group names outside `[A-Za-z0-9._-]` are rejected.
pub async fn invalid_names_are_rejected(log: &dyn Log, ns: &str) {
    for bad in [
        format!("{ns}.bad/name"),
        format!("{ns}.bad name"),
        String::new(),
        "..".to_owned(),
    ] {
        match log.create_topic(&TopicSpec::new(bad.clone(), 1)).await {
            Err(LogError::InvalidTopicName(_)) => {}
            other => panic!("topic name {bad:?}: expected InvalidTopicName, got {other:?}"),
        }
    }
    let t = topic(log, format!("{ns}.names"), 1).await;
    match log.commit("bad/group", &t, 0, 1).await {
        Err(LogError::InvalidGroupName(_)) => {}
        other => panic!("expected InvalidGroupName, got {other:?}"),
    }
}

/// Operations on missing topics and partitions fail with the matching error.
pub async fn unknown_topic_and_partition(log: &dyn Log, ns: &str) {
    let missing = format!("{ns}.missing");
    assert!(matches!(
        log.topic(&missing).await,
        Err(LogError::UnknownTopic(_))
    ));
    let appended = log
        .append(&missing, keyed("k", "v"), Durability::Written)
        .await;
    assert!(
        matches!(appended, Err(LogError::UnknownTopic(_))),
        "{appended:?}"
    );
    let read = log.read(&missing, 0, 0, 10, None).await;
    assert!(matches!(read, Err(LogError::UnknownTopic(_))), "{read:?}");
    let t = topic(log, format!("{ns}.unknown-partition"), 2).await;
    let read = log.read(&t, 2, 0, 10, None).await;
    assert!(
        matches!(read, Err(LogError::UnknownPartition { partition: 2, .. })),
        "{read:?}"
    );
    let end = log.end_offset(&t, 7).await;
    assert!(
        matches!(end, Err(LogError::UnknownPartition { .. })),
        "{end:?}"
    );
}

const GIVEN_TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Keys, values, tombstones, headers and timestamps come back as appended; a zero
/// timestamp is stamped with the append time; every record gets a valid
/// `traceparent` unless it brought one.
pub async fn append_read_round_trip(log: &dyn Log, ns: &str) {
    let t = topic(log, format!("{ns}.round-trip"), 1).await;
    let records = vec![
        Record {
            key: Some(bytes("user-1")),
            value: Some(bytes("hello")),
            headers: vec![
                Header {
                    name: "schema".into(),
                    value: bytes("v1"),
                },
                Header {
                    name: "binary".into(),
                    value: Bytes::from_static(&[0, 1, 2, 255]),
                },
                Header {
                    name: TRACEPARENT.into(),
                    value: bytes(GIVEN_TRACE),
                },
            ],
            timestamp_ms: 1_700_000_000_000,
        },
        Record {
            key: Some(bytes("user-1")),
            value: None,
            // An invalid traceparent is replaced by a valid one.
            headers: vec![Header {
                name: TRACEPARENT.into(),
                value: bytes("not-a-trace"),
            }],
            timestamp_ms: 1_700_000_000_001,
        },
        Record {
            key: None,
            value: Some(Bytes::new()),
            headers: vec![],
            timestamp_ms: 42,
        },
        Record {
            key: Some(Bytes::new()),
            value: Some(bytes("x".repeat(10_000))),
            headers: vec![],
            timestamp_ms: 7,
        },
    ];
    for (i, record) in records.iter().enumerate() {
        let ack = append(log, &t, record.clone()).await;
        assert_eq!((ack.partition, ack.offset), (0, i as u64));
    }
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    append(log, &t, keyed("stamped", "now")).await;
    let after = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;

    let got = log.read(&t, 0, 0, 100, None).await.unwrap();
    assert_eq!(got.len(), records.len() + 1);
    for (i, (stored, record)) in got.iter().zip(&records).enumerate() {
        assert_eq!(stored.offset, i as u64);
        assert_eq!(stored.partition, 0);
        assert_eq!(stored.key, record.key, "key of record {i}");
        assert_eq!(stored.value, record.value, "value of record {i}");
        let untraced = |h: &[Header]| -> Vec<Header> {
            h.iter()
                .filter(|h| h.name != TRACEPARENT)
                .cloned()
                .collect()
        };
        assert_eq!(
            untraced(&stored.headers),
            untraced(&record.headers),
            "headers of record {i}"
        );
        // Every record carries exactly one valid traceparent, and a valid one given
        // by the producer is kept as it was.
        let traces: Vec<_> = stored
            .headers
            .iter()
            .filter(|h| h.name == TRACEPARENT)
            .collect();
        assert_eq!(traces.len(), 1, "traceparent headers of record {i}");
        assert!(
            TraceParent::parse(&traces[0].value).is_some(),
            "record {i} has no valid traceparent: {:?}",
            traces[0].value
        );
        assert_eq!(
            stored.timestamp_ms, record.timestamp_ms,
            "timestamp of record {i}"
        );
    }
    assert_eq!(got[0].header("schema"), Some(&bytes("v1")));
    assert_eq!(got[0].header(TRACEPARENT), Some(&bytes(GIVEN_TRACE)));
    assert_eq!(got[0].header("absent"), None);
    let stamped = &got[records.len()];
    // Allow a second of clock skew between us and a remote broker.
    assert!(
        (before - 1000..=after + 1000).contains(&stamped.timestamp_ms),
        "stamped {} not within [{before}, {after}]",
        stamped.timestamp_ms
    );
}

/// Sequential appends get dense, increasing offsets from 0 in every partition.
pub async fn offsets_are_dense_per_partition(log: &dyn Log, ns: &str) {
    let t = topic(log, format!("{ns}.dense"), 4).await;
    let mut per_partition: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for i in 0..60 {
        let ack = append(log, &t, keyed(&format!("key-{i}"), &format!("v{i}"))).await;
        per_partition
            .entry(ack.partition)
            .or_default()
            .push(ack.offset);
    }
    assert!(
        per_partition.len() > 1,
        "60 keys all hashed to one partition"
    );
    for (p, offsets) in &per_partition {
        let expected: Vec<u64> = (0..offsets.len() as u64).collect();
        assert_eq!(offsets, &expected, "acked offsets of partition {p}");
        assert_eq!(log.end_offset(&t, *p).await.unwrap(), offsets.len() as u64);
        let read: Vec<u64> = read_all(log, &t, *p, 0)
            .await
            .iter()
            .map(|r| r.offset)
            .collect();
        assert_eq!(read, expected, "read offsets of partition {p}");
    }
}

/// A key always lands on `partition_for_key(key)`; no key means partition 0.
pub async fn same_key_same_partition(log: &dyn Log, ns: &str) {
    let t = topic(log, format!("{ns}.keys"), 8).await;
    for round in 0..3 {
        for k in 0..20 {
            let key = format!("svc-{k}");
            let ack = append(log, &t, keyed(&key, &format!("{round}"))).await;
            assert_eq!(
                ack.partition,
                partition_for_key(Some(key.as_bytes()), 8),
                "key {key}"
            );
        }
    }
    let ack = append(
        log,
        &t,
        Record {
            value: Some(bytes("no key")),
            ..Record::default()
        },
    )
    .await;
    assert_eq!(ack.partition, 0);
}
