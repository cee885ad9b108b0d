//! LEARN → MOCK passes through TRANSITIONING (503 + Retry-After) until the
//! library holds every capture recorded before the switch. The log is wrapped so
//! the proxy's captures tail can be held back, making the window observable.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use async_trait::async_trait;
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog};
use ghost_log::{Ack, Durability, Log, LogError, Record, SharedLog, StoredRecord, TopicSpec};
use ghost_model::ServiceName;
use ghost_proxy::{ProxyConfig, ServiceConfig};
use ghost_schema::ModeRecord;
use ghost_test_util::{Upstream, send};
use ghost_topics as topics;
use http::{Method, StatusCode};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Delegates to the embedded log, but while the gate is closed reads of the
/// captures topic return nothing (as if the projection were lagging).
struct GatedLog {
    inner: Arc<EmbeddedLog>,
    open: watch::Receiver<bool>,
}

#[async_trait]
impl Log for GatedLog {
    async fn create_topic(&self, spec: &TopicSpec) -> Result<(), LogError> {
        self.inner.create_topic(spec).await
    }
    async fn topic(&self, name: &str) -> Result<TopicSpec, LogError> {
        self.inner.topic(name).await
    }
    async fn append(&self, topic: &str, record: Record, d: Durability) -> Result<Ack, LogError> {
        self.inner.append(topic, record, d).await
    }
    async fn read(
        &self,
        topic: &str,
        partition: u32,
        from: u64,
        max: usize,
        wait: Option<Duration>,
    ) -> Result<Vec<StoredRecord>, LogError> {
        if topic == topics::CAPTURES.name() && !*self.open.borrow() {
            let mut open = self.open.clone();
            let _ = tokio::time::timeout(wait.unwrap_or_default(), open.wait_for(|o| *o)).await;
            return Ok(Vec::new());
        }
        self.inner.read(topic, partition, from, max, wait).await
    }
    async fn end_offset(&self, topic: &str, partition: u32) -> Result<u64, LogError> {
        self.inner.end_offset(topic, partition).await
    }
    async fn commit(&self, g: &str, t: &str, p: u32, o: u64) -> Result<(), LogError> {
        self.inner.commit(g, t, p, o).await
    }
    async fn committed(&self, g: &str, t: &str, p: u32) -> Result<Option<u64>, LogError> {
        self.inner.committed(g, t, p).await
    }
    async fn compact(&self, topic: &str) -> Result<(), LogError> {
        self.inner.compact(topic).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_waits_for_the_library_to_reach_the_barrier() {
    let dir = tempfile::tempdir().unwrap();
    let inner = EmbeddedLog::open(EmbeddedConfig::new(dir.path()))
        .await
        .unwrap();
    // Closed from the start: a tail read issued while it was open could still
    // deliver the capture and end the transition early.
    let (gate, open) = watch::channel(false);
    let log: SharedLog = Arc::new(GatedLog { inner, open });
    let mut up = Upstream::start("unused").await;
    let mut config = ProxyConfig::new("127.0.0.1:0".parse().unwrap());
    config.services.push(ServiceConfig {
        tenant: ghost_schema::DEFAULT_TENANT.to_owned(),
        preserve_host: false,
        tls: Default::default(),
        name: ServiceName::default_service(),
        upstream: up.url().parse().unwrap(),
        host: None,
        path_prefix: None,
    });
    let proxy = ghost_proxy::start(config, log.clone()).await.unwrap();
    let url = |p: &str| format!("http://{}{p}", proxy.local_addr);

    let live = send(Method::GET, &url("/users/7"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(live.status, StatusCode::OK);

    let offset = ghost_test_util::publish_mode(&*log, "mode-1", ModeRecord::Mock).await;

    // The mode record is applied, but the capture is not in the library yet.
    let state = proxy.state.clone();
    let waited = state
        .wait_mode_applied(offset, None, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(waited.mode, ghost_model::Mode::Transitioning);
    up.stop();
    let r = send(Method::GET, &url("/users/7"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.json()["error"], "transitioning");

    // Let the tail catch up: MOCK serves the capture recorded before the switch.
    gate.send_replace(true);
    let done = state
        .wait_mode_applied(offset, None, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(done.mode, ghost_model::Mode::Mock);
    let r = send(Method::GET, &url("/users/7"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-ghost-mock"), Some("exact"));
    assert_eq!(r.body, live.body);

    let metrics = send(Method::GET, &url("/_ghost/metrics"), &[], "", false)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&metrics.body).to_string();
    for needle in [
        "ghost_requests_total{match_type=\"transitioning\"} 1",
        "ghost_requests_total{match_type=\"exact\"} 1",
        "ghost_requests_total{match_type=\"learn\"} 1",
        "ghost_mock_library_size 1",
        "ghost_request_duration_seconds_bucket{le=\"0.001\"}",
        "ghost_captures_published_total 1",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in\n{text}");
    }
    proxy.shutdown(Duration::from_secs(5)).await;
}
