//! Crash safety: kill -9 `ghost up` while it records under load with durable
//! captures; after a restart every acknowledged capture is there and no record
//! is corrupt.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_test_util::{Ghost, TEST_API_KEY, Upstream, send};
use http::{Method, StatusCode};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ghost");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_captures_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::start("unused").await;
    let mut acked_total = Vec::new();
    for round in 0..3u64 {
        let args = ["--upstream", &up.url(), "--durable-captures", "true"];
        let g = Ghost::start(Path::new(BIN), dir.path(), &args).await;
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::new();
        for w in 0..16u64 {
            let (url, stop) = (g.proxy_url(""), stop.clone());
            workers.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let id = round * 1_000_000 + w * 10_000 + i;
                    i += 1;
                    match send(Method::GET, &format!("{url}/users/{id}"), &[], "", false).await {
                        Ok(r) if r.status == StatusCode::OK => acked.push(id),
                        _ => {}
                    }
                }
                acked
            }));
        }
        // Let load build up, then kill mid-flight.
        tokio::time::sleep(Duration::from_millis(700)).await;
        g.kill9().await;
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            acked_total.extend(w.await.unwrap());
        }
    }
    assert!(
        acked_total.len() > 100,
        "load was applied: {} acked",
        acked_total.len()
    );
    eprintln!(
        "crash test: {} captures acknowledged across 3 kills",
        acked_total.len()
    );

    let g = Ghost::start(Path::new(BIN), dir.path(), &[]).await;
    let metrics = send(Method::GET, &g.proxy_url("/_ghost/metrics"), &[], "", false)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&metrics.body).to_string();
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("ghost_io_errors_total{operation=\"decode\"}")),
        "a record failed to decode after recovery:\n{text}"
    );
    let mocks = send(
        Method::GET,
        &g.control_url("/v1/mocks?per_page=1"),
        &[("x-api-key", TEST_API_KEY)],
        "",
        false,
    )
    .await
    .unwrap()
    .json();
    let total = mocks["total"].as_u64().unwrap() as usize;
    assert!(
        total >= acked_total.len(),
        "{total} recordings < {} acknowledged",
        acked_total.len()
    );
    g.set_mode("MOCK", None).await;
    for id in &acked_total {
        let r = send(
            Method::GET,
            &g.proxy_url(&format!("/users/{id}")),
            &[],
            "",
            false,
        )
        .await
        .unwrap();
        assert_eq!(
            r.header("x-ghost-mock"),
            Some("exact"),
            "acknowledged capture /users/{id} lost"
        );
    }
    g.stop().await;
}
