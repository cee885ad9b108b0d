//! The behaviour every [`Log`] backend must show, written once as async checks that
//! each backend's tests run (`tests/conformance_embedded.rs` for the embedded log; a
//! Kafka backend runs the same functions against a broker).
//!
//! Each check takes a log and a namespace and only touches topics and groups named
//! `<ns>.<check>...`, so checks can share one log without colliding. A check panics
//! (through `assert!`) on the first violation, naming what it expected.
//!
//! The checks only assert what the [`Log`] contract promises: e.g. compaction is
//! allowed to be lazy, so the compaction check asserts that nothing but superseded
//! records disappears and that offsets never move, not that anything was removed.

// This is a test suite compiled into the library so other backends' test crates can
// call it; panicking on a failed expectation is its whole job.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod compaction;
mod reads;
mod subscriptions;
mod topics;
mod writes;

pub use compaction::{compact_on_plain_topic_keeps_everything, compaction_keeps_newest_per_key};
pub use reads::{
    read_at_end_is_empty, read_from_middle, read_respects_max, read_wait_times_out_empty,
    read_wait_wakes_on_append,
};
pub use subscriptions::subscription_resumes_from_commit;
pub use topics::{
    append_read_round_trip, create_topic_is_idempotent, invalid_names_are_rejected,
    offsets_are_dense_per_partition, same_key_same_partition, unknown_topic_and_partition,
};
pub use writes::{
    batch_appends, commits_are_per_group, concurrent_appends, end_offset_tracks_appends,
    synced_appends,
};

use crate::{Durability, Log, Record, StoredRecord, TopicSpec};
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// Runs every check in turn against `log`.
pub async fn run_all(log: &dyn Log, ns: &str) {
    create_topic_is_idempotent(log, ns).await;
    invalid_names_are_rejected(log, ns).await;
    unknown_topic_and_partition(log, ns).await;
    append_read_round_trip(log, ns).await;
    offsets_are_dense_per_partition(log, ns).await;
    same_key_same_partition(log, ns).await;
    read_from_middle(log, ns).await;
    read_respects_max(log, ns).await;
    read_at_end_is_empty(log, ns).await;
    read_wait_wakes_on_append(log, ns).await;
    read_wait_times_out_empty(log, ns).await;
    end_offset_tracks_appends(log, ns).await;
    commits_are_per_group(log, ns).await;
    concurrent_appends(log, ns).await;
    synced_appends(log, ns).await;
    batch_appends(log, ns).await;
    compaction_keeps_newest_per_key(log, ns).await;
    compact_on_plain_topic_keeps_everything(log, ns).await;
}

fn bytes(s: impl Into<String>) -> Bytes {
    Bytes::from(s.into())
}

fn keyed(key: &str, value: &str) -> Record {
    Record {
        key: Some(bytes(key)),
        value: Some(bytes(value)),
        ..Record::default()
    }
}

async fn topic(log: &dyn Log, name: String, partitions: u32) -> String {
    log.create_topic(&TopicSpec::new(name.clone(), partitions))
        .await
        .unwrap_or_else(|e| panic!("create_topic({name}): {e}"));
    name
}

async fn append(log: &dyn Log, topic: &str, record: Record) -> crate::Ack {
    log.append(topic, record, Durability::Written)
        .await
        .unwrap_or_else(|e| panic!("append to {topic}: {e}"))
}

/// Everything in a partition from `from` on, following pages until the end offset.
async fn read_all(log: &dyn Log, topic: &str, partition: u32, from: u64) -> Vec<StoredRecord> {
    let end = log.end_offset(topic, partition).await.unwrap();
    let mut out: Vec<StoredRecord> = Vec::new();
    let mut next = from;
    while next < end {
        let page = log.read(topic, partition, next, 1000, None).await.unwrap();
        let Some(last) = page.last() else { break };
        next = last.offset + 1;
        out.extend(page);
    }
    out
}

/// Polls all futures concurrently on the current task (no `'static` needed, so the
/// checks can borrow the log) and returns their outputs in order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(v) => *output = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future completed"))
        .collect()
}
