//! ghost over a real Kafka-protocol broker: `topics apply` is idempotent, and
//! `ghost proxy --log kafka://…` records, switches to MOCK from the modes topic,
//! and after a restart replays its library from Kafka.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_log::kafka::{KafkaConfig, KafkaLog};
use ghost_schema::ModeRecord;
use ghost_test_util::{Broker, Ghost, Upstream, send};
use ghost_topics as topics;
use http::{Method, StatusCode};
use std::path::Path;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ghost");

fn topics_apply(url: &str) -> (bool, String) {
    let out = std::process::Command::new(BIN)
        .args(["topics", "apply", "--log", url])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_over_kafka_records_mocks_and_survives_restart() {
    let broker = Broker::start();
    let url = format!("kafka://{}", broker.bootstrap);
    let (ok, out) = topics_apply(&url);
    assert!(ok, "{out}");
    assert!(
        out.contains("ghost.captures.v1: created (4 partitions"),
        "{out}"
    );
    let (ok, again) = topics_apply(&url);
    assert!(ok, "{again}");
    assert!(
        again.contains("ghost.captures.v1: ok") && again.contains("ghost.modes.v1: ok"),
        "{again}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut up = Upstream::start("unused").await;
    let g = Ghost::start_proxy(
        Path::new(BIN),
        dir.path(),
        &["--log", &url, "--upstream", &up.url()],
    )
    .await;
    let live = send(Method::GET, &g.proxy_url("/users/3"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(live.status, StatusCode::OK);
    assert!(
        live.header("x-ghost-mock").is_none(),
        "LEARN by default on a fresh log"
    );

    // No control plane here: a mode change is a record on the modes topic.
    let log = KafkaLog::connect(KafkaConfig::new(broker.bootstrap.clone()))
        .await
        .unwrap();
    ghost_test_util::publish_mode(&*log, "mode-kafka-1", ModeRecord::Mock).await;
    up.stop();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let r = send(Method::GET, &g.proxy_url("/users/3"), &[], "", false)
            .await
            .unwrap();
        if r.header("x-ghost-mock") == Some("exact") {
            assert_eq!(r.body, live.body);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "MOCK never took effect: {}",
            r.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    g.stop().await;

    // A fresh proxy process rebuilds library and mode from Kafka alone.
    let fresh = tempfile::tempdir().unwrap();
    let g = Ghost::start_proxy(
        Path::new(BIN),
        fresh.path(),
        &["--log", &url, "--upstream", &up.url()],
    )
    .await;
    let r = send(Method::GET, &g.proxy_url("/users/3"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(r.header("x-ghost-mock"), Some("exact"));
    assert_eq!(r.body, live.body);
    g.stop().await;
}

/// `topics apply` creates topics with the files' retention and cleanup policy,
/// and finds retention drift on a topic created by someone else: `--dry-run`
/// reports it and changes nothing; a real apply changes it where the broker
/// supports AlterConfigs (Apache Kafka, via GHOST_TEST_KAFKA) and otherwise (tansu)
/// says why it could not and exits non-zero, never claiming success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_apply_sets_broker_configs_and_reports_drift() {
    let broker = Broker::start();
    let url = format!("kafka://{}", broker.bootstrap);
    let log = KafkaLog::connect(KafkaConfig::new(broker.bootstrap.clone()))
        .await
        .unwrap();
    // An operator made the captures topic first, with short retention and an
    // override of their own.
    log.create_topic_with(
        &ghost_log::TopicSpec::new(topics::CAPTURES.name(), 4),
        1,
        &[
            ("retention.ms", "1000".to_owned()),
            ("max.message.bytes", "2000000".to_owned()),
        ],
    )
    .await
    .unwrap();

    let out = std::process::Command::new(BIN)
        .args(["topics", "apply", "--dry-run", "--log", &url])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "drift fails a dry run: {text}");
    assert!(
        text.contains(
            "ghost.captures.v1: DRIFT retention.ms: broker has 1000, topics/ says 604800000"
        ),
        "{text}"
    );
    assert!(
        text.contains("ghost.modes.v1: missing (would be created)"),
        "{text}"
    );
    assert!(
        log.describe_topic(topics::MODES.name())
            .await
            .unwrap()
            .is_none(),
        "a dry run creates nothing"
    );

    let (ok, out) = topics_apply(&url);
    // Everything missing was created with the files' settings either way.
    let modes = log
        .describe_topic(topics::MODES.name())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(modes.effective["cleanup.policy"], "compact", "{out}");
    let scrubbed = log
        .describe_topic(topics::SCRUBBED.name())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(scrubbed.partitions, 4);
    assert_eq!(scrubbed.replication, 1);
    assert_eq!(scrubbed.effective["retention.ms"], "7776000000", "{out}");
    assert_eq!(scrubbed.effective["cleanup.policy"], "delete");
    let captures = log
        .describe_topic(topics::CAPTURES.name())
        .await
        .unwrap()
        .unwrap();
    if out.contains("ghost.captures.v1: updated retention.ms 1000 -> 604800000") {
        assert!(ok, "{out}");
        assert_eq!(captures.effective["retention.ms"], "604800000");
        assert_eq!(
            captures
                .overrides
                .get("max.message.bytes")
                .map(String::as_str),
            Some("2000000"),
            "the operator's own override survives: {captures:?}"
        );
        let (ok, again) = topics_apply(&url);
        assert!(ok && again.contains("ghost.captures.v1: ok"), "{again}");
    } else {
        assert!(!ok, "unrepaired drift is a failure: {out}");
        assert!(
            out.contains("ghost.captures.v1: DRIFT retention.ms: broker has 1000, topics/ says 604800000 (could not change it: the broker does not support changing topic configs"),
            "{out}"
        );
        assert_eq!(captures.effective["retention.ms"], "1000");
    }
}

#[tokio::test]
async fn bad_log_urls_are_refused_clearly() {
    let (ok, out) = topics_apply("kafka://nohost");
    assert!(!ok && out.contains("expected kafka://host:port"), "{out}");
    let (ok, out) = topics_apply("redis://x:1");
    assert!(!ok && out.contains("unsupported --log"), "{out}");
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

/// The broker freezes during LEARN: the proxy keeps serving, the backlog shows in
/// `ghost_captures_pending`, and once the broker is back every capture reaches
/// the library through Kafka.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_outage_during_learn_loses_nothing() {
    let broker = Broker::start();
    let url = format!("kafka://{}", broker.bootstrap);
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::start("unused").await;
    let g = Ghost::start(
        Path::new(BIN),
        dir.path(),
        &["--log", &url, "--upstream", &up.url()],
    )
    .await;
    for i in 0..20 {
        let r = send(
            Method::GET,
            &g.proxy_url(&format!("/users/{i}")),
            &[],
            "",
            false,
        )
        .await
        .unwrap();
        assert_eq!(r.status, StatusCode::OK);
    }
    if !broker.pause() {
        eprintln!("external broker: cannot pause it, skipping the outage part");
        return;
    }
    for i in 20..60 {
        let r = tokio::time::timeout(
            Duration::from_secs(5),
            send(
                Method::GET,
                &g.proxy_url(&format!("/users/{i}")),
                &[],
                "",
                false,
            ),
        )
        .await
        .expect("the proxy must keep serving while the log is down")
        .unwrap();
        assert_eq!(r.status, StatusCode::OK);
    }
    let text = String::from_utf8_lossy(
        &send(Method::GET, &g.proxy_url("/_ghost/metrics"), &[], "", false)
            .await
            .unwrap()
            .body,
    )
    .to_string();
    assert!(
        metric(&text, "ghost_captures_pending") > 0.0,
        "the backlog is visible:\n{text}"
    );
    assert_eq!(metric(&text, "ghost_captures_dropped_total"), 0.0);
    assert!(broker.resume());

    let key = [("x-api-key", ghost_test_util::TEST_API_KEY)];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mocks = send(
            Method::GET,
            &g.control_url("/v1/mocks?per_page=1"),
            &key,
            "",
            false,
        )
        .await
        .unwrap()
        .json();
        if mocks["total"] == 60 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "captures lost: {mocks}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = String::from_utf8_lossy(
        &send(Method::GET, &g.proxy_url("/_ghost/metrics"), &[], "", false)
            .await
            .unwrap()
            .body,
    )
    .to_string();
    assert_eq!(metric(&text, "ghost_captures_pending"), 0.0);
    assert_eq!(metric(&text, "ghost_captures_published_total"), 60.0);
    g.stop().await;
}
