//! Checks of end offsets, consumer commits, concurrent and synced appends.

use super::{append, bytes, join_all, keyed, read_all, topic};
use crate::{Durability, Log};
use std::collections::{HashMap, HashSet};

/// `end_offset` is the offset the next append gets.
pub async fn end_offset_tracks_appends(log: &dyn Log, ns: &str) {
    let t = topic(log, format!("{ns}.end"), 1).await;
    assert_eq!(log.end_offset(&t, 0).await.unwrap(), 0);
    for i in 0..5 {
        let ack = append(log, &t, keyed("k", "v")).await;
        assert_eq!(ack.offset, i);
        assert_eq!(log.end_offset(&t, 0).await.unwrap(), i + 1);
    }
    let end = log.end_offset(&t, 0).await.unwrap();
    assert!(log.read(&t, 0, end, 10, None).await.unwrap().is_empty());
}

/// Committed positions are per group and per partition, and can move backwards.
pub async fn commits_are_per_group(log: &dyn Log, ns: &str) {
    let t = topic(log, format!("{ns}.commits"), 2).await;
    let (a, b) = (format!("{ns}.group-a"), format!("{ns}.group-b"));
    assert_eq!(log.committed(&a, &t, 0).await.unwrap(), None);
    log.commit(&a, &t, 0, 5).await.unwrap();
    assert_eq!(log.committed(&a, &t, 0).await.unwrap(), Some(5));
    assert_eq!(log.committed(&b, &t, 0).await.unwrap(), None);
    assert_eq!(log.committed(&a, &t, 1).await.unwrap(), None);
    log.commit(&b, &t, 0, 7).await.unwrap();
    log.commit(&a, &t, 1, 3).await.unwrap();
    assert_eq!(log.committed(&a, &t, 0).await.unwrap(), Some(5));
    assert_eq!(log.committed(&b, &t, 0).await.unwrap(), Some(7));
    assert_eq!(log.committed(&a, &t, 1).await.unwrap(), Some(3));
    log.commit(&a, &t, 0, 2).await.unwrap();
    assert_eq!(log.committed(&a, &t, 0).await.unwrap(), Some(2));
}

/// Many concurrent appenders all get unique offsets and every record is readable at
/// the offset it was acknowledged with.
pub async fn concurrent_appends(log: &dyn Log, ns: &str) {
    let t = topic(log, format!("{ns}.concurrent"), 3).await;
    let appenders = (0..16).map(|task| {
        let t = &t;
        async move {
            let mut acks = Vec::new();
            for i in 0..25 {
                let value = format!("{task}-{i}");
                let ack = append(log, t, keyed(&format!("key-{task}-{}", i % 5), &value)).await;
                acks.push((ack, value));
            }
            acks
        }
    });
    let acks: Vec<_> = join_all(appenders.collect())
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(acks.len(), 400);
    let mut expected: HashMap<(u32, u64), String> = HashMap::new();
    for (ack, value) in acks {
        let clash = expected.insert((ack.partition, ack.offset), value);
        assert!(clash.is_none(), "offset {ack:?} acknowledged twice");
    }
    for p in 0..3 {
        let records = read_all(log, &t, p, 0).await;
        let in_partition = expected.keys().filter(|(ep, _)| *ep == p).count();
        assert_eq!(records.len(), in_partition, "partition {p}");
        for (i, r) in records.iter().enumerate() {
            assert_eq!(r.offset, i as u64, "partition {p} offsets are dense");
            let value = expected.get(&(p, r.offset)).map(|v| bytes(v.clone()));
            assert_eq!(r.value, value, "partition {p} offset {}", r.offset);
        }
    }
}

/// `Durability::Synced` appends are acknowledged (alone and concurrently) and readable.
pub async fn synced_appends(log: &dyn Log, ns: &str) {
    let t = topic(log, format!("{ns}.synced"), 1).await;
    let first = log
        .append(&t, keyed("k", "v0"), Durability::Synced)
        .await
        .unwrap();
    assert_eq!(first.offset, 0);
    let batch = (1..=8).map(|i| {
        let durability = if i % 2 == 0 {
            Durability::Synced
        } else {
            Durability::Written
        };
        log.append(&t, keyed("k", &format!("v{i}")), durability)
    });
    let offsets: HashSet<u64> = join_all(batch.collect())
        .await
        .into_iter()
        .map(|a| a.unwrap().offset)
        .collect();
    assert_eq!(offsets, (1..=8).collect());
    assert_eq!(read_all(log, &t, 0, 0).await.len(), 9);
}

/// `append_batch` acknowledges every record in input order, keeps per-partition
/// order, reports a bad record without failing the rest, and an unknown topic
/// fails every record.
pub async fn batch_appends(log: &dyn Log, ns: &str) {
    let t = topic(log, format!("{ns}.batch"), 3).await;
    let records: Vec<_> = (0..200)
        .map(|i| keyed(&format!("k{}", i % 7), &format!("v{i}")))
        .collect();
    let acks = log.append_batch(&t, records, Durability::Written).await;
    assert_eq!(acks.len(), 200);
    let mut last: HashMap<u32, u64> = HashMap::new();
    for (i, ack) in acks.iter().enumerate() {
        let ack = ack.as_ref().unwrap_or_else(|e| panic!("record {i}: {e}"));
        let key = format!("k{}", i % 7);
        assert_eq!(
            ack.partition,
            crate::partition_for_key(Some(key.as_bytes()), 3)
        );
        if let Some(prev) = last.insert(ack.partition, ack.offset) {
            assert!(
                ack.offset > prev,
                "batch order kept within partition {}",
                ack.partition
            );
        }
    }
    let total: usize = {
        let mut n = 0;
        for p in 0..3 {
            n += read_all(log, &t, p, 0).await.len();
        }
        n
    };
    assert_eq!(total, 200);
    let synced = log
        .append_batch(
            &t,
            vec![keyed("a", "1"), keyed("b", "2")],
            Durability::Synced,
        )
        .await;
    assert!(synced.iter().all(Result::is_ok));
    let missing = log
        .append_batch(
            &format!("{ns}.no-such-topic"),
            vec![keyed("a", "1"), keyed("b", "2")],
            Durability::Written,
        )
        .await;
    assert_eq!(missing.len(), 2);
    assert!(missing.iter().all(Result::is_err));
    assert!(
        log.append_batch(&t, Vec::new(), Durability::Written)
            .await
            .is_empty()
    );
}
