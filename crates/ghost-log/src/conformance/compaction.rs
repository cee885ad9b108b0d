//! Checks of compaction. Backends may compact lazily, so these only assert what must
//! hold whenever compaction ran or not: survivors are unchanged at their offsets, and
//! a record only disappears when a newer record with the same key exists.

use super::{append, keyed, read_all, topic};
use crate::{Log, Record, StoredRecord, TopicSpec};
use bytes::Bytes;
use std::collections::{HashMap, HashSet};

/// Compares a partition's records before and after compaction.
fn assert_compacted(before: &[StoredRecord], after: &[StoredRecord]) {
    let by_offset: HashMap<u64, &StoredRecord> = before.iter().map(|r| (r.offset, r)).collect();
    let mut newest: HashMap<&Bytes, u64> = HashMap::new();
    for r in before {
        if let Some(key) = &r.key {
            newest.insert(key, r.offset);
        }
    }
    for pair in after.windows(2) {
        assert!(
            pair[0].offset < pair[1].offset,
            "offsets out of order after compaction"
        );
    }
    for r in after {
        assert_eq!(
            Some(&r),
            by_offset.get(&r.offset),
            "record at offset {} changed",
            r.offset
        );
    }
    let surviving: HashSet<u64> = after.iter().map(|r| r.offset).collect();
    for r in before.iter().filter(|r| !surviving.contains(&r.offset)) {
        let superseded = r
            .key
            .as_ref()
            .and_then(|k| newest.get(k))
            .is_some_and(|&n| n > r.offset);
        assert!(
            superseded,
            "offset {} disappeared but was the newest for its key (or had none)",
            r.offset
        );
    }
}

/// On a compacted topic the newest record of every key (tombstones included) and
/// every keyless record survive `compact`, offsets never change, and a read from an
/// offset that was compacted away starts at the next surviving record.
pub async fn compaction_keeps_newest_per_key(log: &dyn Log, ns: &str) {
    let t = format!("{ns}.compacted");
    log.create_topic(&TopicSpec::new(t.clone(), 1).compacted())
        .await
        .unwrap();
    // Padding makes backends with small segments roll a few times.
    let pad = "p".repeat(200);
    for round in 0..6 {
        for k in 0..8 {
            append(log, &t, keyed(&format!("k{k}"), &format!("{round}-{pad}"))).await;
        }
        append(
            log,
            &t,
            Record {
                value: Some(Bytes::from(format!("keyless-{round}"))),
                ..Record::default()
            },
        )
        .await;
    }
    let tombstone = Record {
        key: Some(Bytes::from_static(b"k0")),
        ..Record::default()
    };
    append(log, &t, tombstone).await;

    let before = read_all(log, &t, 0, 0).await;
    log.compact(&t).await.unwrap();
    let after = read_all(log, &t, 0, 0).await;
    assert_compacted(&before, &after);
    let k0: Vec<_> = after
        .iter()
        .filter(|r| r.key.as_deref() == Some(b"k0"))
        .collect();
    assert_eq!(
        k0.last().map(|r| r.value.is_none()),
        Some(true),
        "the tombstone is the newest k0"
    );

    for k in 0..8 {
        append(log, &t, keyed(&format!("k{k}"), "final")).await;
    }
    let before = read_all(log, &t, 0, 0).await;
    log.compact(&t).await.unwrap();
    log.compact(&t).await.unwrap();
    let after = read_all(log, &t, 0, 0).await;
    assert_compacted(&before, &after);

    let end = log.end_offset(&t, 0).await.unwrap();
    for from in 0..end {
        let got = log.read(&t, 0, from, 1, None).await.unwrap();
        let expected = after.iter().find(|r| r.offset >= from);
        assert_eq!(got.first(), expected, "read from offset {from}");
    }
}

/// `compact` on a topic that is not compacted succeeds and removes nothing.
pub async fn compact_on_plain_topic_keeps_everything(log: &dyn Log, ns: &str) {
    let t = topic(log, format!("{ns}.not-compacted"), 1).await;
    let pad = "p".repeat(200);
    for i in 0..40 {
        append(log, &t, keyed("same-key", &format!("{i}-{pad}"))).await;
    }
    log.compact(&t).await.unwrap();
    let offsets: Vec<u64> = read_all(log, &t, 0, 0)
        .await
        .iter()
        .map(|r| r.offset)
        .collect();
    assert_eq!(offsets, (0..40).collect::<Vec<_>>());
}
