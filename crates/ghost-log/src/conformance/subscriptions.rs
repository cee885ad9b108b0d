//! Checks of consumer-group subscriptions.

use super::{keyed, topic};
use crate::{Durability, SharedLog, subscribe};
use std::collections::BTreeMap;
use std::time::Duration;

/// Polls until `want` records arrived (group joins can take seconds).
async fn collect(sub: &mut Box<dyn crate::Subscription>, want: usize) -> Vec<(u32, u64)> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut got = Vec::new();
    while got.len() < want {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {want} records arrived",
            got.len()
        );
        for r in sub.poll(64, Duration::from_millis(500)).await.unwrap() {
            got.push((r.partition, r.offset));
        }
    }
    got
}

/// A member receives every record once; a new member of the same group resumes
/// from what was committed, and a different group starts from the beginning.
pub async fn subscription_resumes_from_commit(log: &SharedLog, ns: &str) {
    let t = topic(&**log, format!("{ns}.sub"), 2).await;
    for i in 0..20 {
        log.append(
            &t,
            keyed(&format!("k{i}"), &format!("v{i}")),
            Durability::Written,
        )
        .await
        .unwrap();
    }
    let group = format!("{ns}.group");
    let mut sub = subscribe(log, &group, &t).await.unwrap();
    let got = collect(&mut sub, 20).await;
    let mut per_partition: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for (p, o) in &got {
        per_partition.entry(*p).or_default().push(*o);
    }
    for (p, offsets) in &per_partition {
        let expected: Vec<u64> = (0..offsets.len() as u64).collect();
        assert_eq!(
            offsets, &expected,
            "partition {p}: each record once, in order"
        );
    }
    // Handle half of each partition.
    let mut remaining = 0;
    for (p, offsets) in &per_partition {
        let half = offsets.len() as u64 / 2;
        sub.commit(*p, half).await.unwrap();
        remaining += offsets.len() - half as usize;
    }
    assert!(
        sub.poll(64, Duration::from_millis(200))
            .await
            .unwrap()
            .is_empty(),
        "nothing is delivered twice to one member"
    );
    drop(sub);

    let mut again = subscribe(log, &group, &t).await.unwrap();
    let resumed = collect(&mut again, remaining).await;
    for (p, o) in &resumed {
        let half = per_partition[p].len() as u64 / 2;
        assert!(
            *o >= half,
            "partition {p}: offset {o} was committed already"
        );
    }
    drop(again);

    let mut other = subscribe(log, &format!("{ns}.other"), &t).await.unwrap();
    assert_eq!(
        collect(&mut other, 20).await.len(),
        20,
        "another group starts from the beginning"
    );
}
