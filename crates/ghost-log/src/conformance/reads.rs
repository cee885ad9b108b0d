//! Checks of reads: positioning, `max`, the end of the log, and waiting.

use super::{append, bytes, keyed, topic};
use crate::Log;
use std::time::{Duration, Instant};

async fn ten_records(log: &dyn Log, name: String) -> String {
    let t = topic(log, name, 1).await;
    for i in 0..10 {
        append(log, &t, keyed("k", &format!("v{i}"))).await;
    }
    t
}

/// Reading from an offset in the middle starts exactly there.
pub async fn read_from_middle(log: &dyn Log, ns: &str) {
    let t = ten_records(log, format!("{ns}.middle")).await;
    let got = log.read(&t, 0, 4, 100, None).await.unwrap();
    let offsets: Vec<u64> = got.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, (4..10).collect::<Vec<_>>());
    assert_eq!(got[0].value, Some(bytes("v4")));
}

/// `max` caps how many records one read returns.
pub async fn read_respects_max(log: &dyn Log, ns: &str) {
    let t = ten_records(log, format!("{ns}.max")).await;
    let got = log.read(&t, 0, 2, 3, None).await.unwrap();
    let offsets: Vec<u64> = got.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, vec![2, 3, 4]);
    assert_eq!(log.read(&t, 0, 0, 1, None).await.unwrap().len(), 1);
}

/// Reading at or past the end returns nothing, at once.
pub async fn read_at_end_is_empty(log: &dyn Log, ns: &str) {
    let t = ten_records(log, format!("{ns}.at-end")).await;
    assert!(log.read(&t, 0, 10, 100, None).await.unwrap().is_empty());
    assert!(
        log.read(&t, 0, 1_000_000, 100, None)
            .await
            .unwrap()
            .is_empty()
    );
    let empty = topic(log, format!("{ns}.at-end-empty"), 1).await;
    assert!(log.read(&empty, 0, 0, 100, None).await.unwrap().is_empty());
}

/// A waiting read returns as soon as another task appends.
pub async fn read_wait_wakes_on_append(log: &dyn Log, ns: &str) {
    let t = topic(log, format!("{ns}.wait-wakes"), 1).await;
    append(log, &t, keyed("k", "first")).await;
    let started = Instant::now();
    let (got, _) = tokio::join!(
        log.read(&t, 0, 1, 10, Some(Duration::from_secs(20))),
        async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            append(log, &t, keyed("k", "second")).await
        }
    );
    let got = got.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].offset, got[0].value.clone()),
        (1, Some(bytes("second")))
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "woke after {:?}",
        started.elapsed()
    );
}

/// A waiting read with nothing to return gives up after about `wait`.
pub async fn read_wait_times_out_empty(log: &dyn Log, ns: &str) {
    let t = topic(log, format!("{ns}.wait-times-out"), 1).await;
    append(log, &t, keyed("k", "v")).await;
    let wait = Duration::from_millis(300);
    let started = Instant::now();
    let got = log.read(&t, 0, 1, 10, Some(wait)).await.unwrap();
    let took = started.elapsed();
    assert!(got.is_empty());
    assert!(
        took >= wait - Duration::from_millis(20),
        "returned early after {took:?}"
    );
    assert!(took < wait + Duration::from_secs(3), "overslept: {took:?}");
}
