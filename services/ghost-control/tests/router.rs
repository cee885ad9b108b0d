//! Router-level tests (no sockets): auth, JSON errors, mode changes on the log,
//! pagination, against a fake `StateView` and a real embedded log.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use ghost_control::{ApiKeys, AppState, MockInfo, ModeInfo, ServiceInfo, StateView, router};
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog};
use ghost_log::{SharedLog, TopicSpec};
use ghost_model::{Mode, ServiceName};
use ghost_topics as topics;
use http_body_util::BodyExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

const KEY: &str = "router-test-key-0123";

struct FakeView {
    mode: Mutex<Mode>,
    mocks: Vec<MockInfo>,
}

#[async_trait]
impl StateView for FakeView {
    fn services(&self) -> Vec<ServiceInfo> {
        vec![ServiceInfo {
            name: "default".into(),
            upstream: "http://127.0.0.1:1/".into(),
            mode: "LEARN".into(),
            insecure_skip_verify: false,
            warning: None,
        }]
    }
    fn has_service(&self, name: &ServiceName) -> bool {
        name.as_str() == "default"
    }
    fn mode(&self, service: Option<&ServiceName>) -> ModeInfo {
        let m = *self.mode.lock().unwrap();
        ModeInfo {
            service: service.map(|s| s.to_string()),
            mode: m,
            target: m,
            inherited: false,
        }
    }
    async fn mocks(
        &self,
        service: Option<&ServiceName>,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<MockInfo>, bool) {
        let all: Vec<_> = self
            .mocks
            .iter()
            .filter(|m| service.is_none_or(|s| m.service == s.as_str()))
            .cloned()
            .collect();
        (
            all.len(),
            all.into_iter().skip(offset).take(limit).collect(),
            true,
        )
    }
    fn ready(&self) -> bool {
        true
    }
    async fn wait_mode_applied(
        &self,
        _offset: u64,
        service: Option<&ServiceName>,
        _t: Duration,
    ) -> ModeInfo {
        // The fake "proxy" applies whatever was asked: read it back from the log.
        self.mode(service)
    }
}

async fn app() -> (tempfile::TempDir, axum::Router, SharedLog, Arc<FakeView>) {
    let dir = tempfile::tempdir().unwrap();
    let log: SharedLog = EmbeddedLog::open(EmbeddedConfig::new(dir.path().join("log")))
        .await
        .unwrap();
    log.create_topic(&TopicSpec::new(topics::CAPTURES.name(), 2))
        .await
        .unwrap();
    log.create_topic(&TopicSpec::new(topics::MODES.name(), 1).compacted())
        .await
        .unwrap();
    let (keys, _) = ApiKeys::load_or_bootstrap(&dir.path().join("control"), Some(KEY)).unwrap();
    let mocks = (0..7)
        .map(|i| MockInfo {
            id: format!("c{i}"),
            service: "default".into(),
            method: "GET".into(),
            uri: format!("/users/{i}"),
            status: 200,
            recorded_at_us: i,
            session_id: "s".into(),
            body_bytes: 10,
        })
        .collect();
    let view = Arc::new(FakeView {
        mode: Mutex::new(Mode::Learn),
        mocks,
    });
    let state = AppState {
        keys: Arc::new(keys),
        log: log.clone(),
        view: view.clone(),
        mode_wait: Duration::from_secs(1),
    };
    (dir, router(state), log, view)
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    key: Option<&str>,
    body: &str,
) -> (StatusCode, serde_json::Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn auth_is_required_under_v1_only() {
    let (_d, app, _log, _v) = app().await;
    assert_eq!(
        call(&app, "GET", "/healthz", None, "").await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "GET", "/readyz", None, "").await.0,
        StatusCode::OK
    );
    let (s, j) = call(&app, "GET", "/v1/mode", None, "").await;
    assert_eq!(
        (s, j["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (s, _) = call(&app, "GET", "/v1/mode", Some("nope-nope-nope-nope"), "").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, j) = call(&app, "GET", "/v1/mode", Some(KEY), "").await;
    assert_eq!((s, j["mode"].as_str()), (StatusCode::OK, Some("LEARN")));
}

#[tokio::test]
async fn mode_change_is_a_record_on_the_log_with_a_barrier() {
    let (_d, app, log, _v) = app().await;
    let (s, j) = call(
        &app,
        "POST",
        "/v1/mode?service=default",
        Some(KEY),
        r#"{"mode":"mock"}"#,
    )
    .await;
    // The fake view never changes its mode, so the control plane answers 202.
    assert_eq!(s, StatusCode::ACCEPTED, "{j}");
    assert_eq!(j["offset"], 0);
    let records = log
        .read(topics::MODES.name(), 0, 0, 10, None)
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].key.as_deref(), Some(&b"service:default"[..]));
    let change: ghost_schema::ModeChangeRecord =
        ghost_schema::decode(records[0].value.as_ref().unwrap()).unwrap();
    assert_eq!(change.mode, ghost_schema::ModeRecord::Mock);
    assert_eq!(change.service.as_deref(), Some("default"));
    assert_eq!(
        change.barrier.len(),
        2,
        "one barrier offset per captures partition"
    );
}

#[tokio::test]
async fn bad_mode_requests_change_nothing() {
    let (_d, app, log, _v) = app().await;
    for (body, code) in [
        ("", "bad_json"),
        ("[]", "bad_json"),
        (r#"{"mode":1}"#, "bad_json"),
        (r#"{"mode":"x"}"#, "bad_mode"),
    ] {
        let (s, j) = call(&app, "POST", "/v1/mode", Some(KEY), body).await;
        assert_eq!(
            (s, j["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{body}: {j}"
        );
    }
    let (s, j) = call(
        &app,
        "POST",
        "/v1/mode?service=ghosty",
        Some(KEY),
        r#"{"mode":"MOCK"}"#,
    )
    .await;
    assert_eq!(
        (s, j["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_service"))
    );
    assert_eq!(
        log.end_offset(topics::MODES.name(), 0).await.unwrap(),
        0,
        "nothing was published"
    );
}

#[tokio::test]
async fn mocks_paginate() {
    let (_d, app, _log, _v) = app().await;
    let (s, j) = call(&app, "GET", "/v1/mocks?per_page=3&page=3", Some(KEY), "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(j["total"], 7);
    assert_eq!(j["items"].as_array().unwrap().len(), 1);
    assert_eq!(j["items"][0]["uri"], "/users/6");
    let (_, j) = call(&app, "GET", "/v1/mocks?page=9", Some(KEY), "").await;
    assert_eq!(j["items"].as_array().unwrap().len(), 0);
    let (s, _) = call(&app, "GET", "/v1/mocks?per_page=-1", Some(KEY), "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

async fn call_json(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    call(app, method, uri, Some(KEY), &body.to_string()).await
}

#[tokio::test]
async fn scrub_configs_are_validated_saved_on_the_log_and_read_back() {
    let (_d, app, log, _v) = app().await;
    let (s, j) = call(&app, "GET", "/v1/scrub/config", Some(KEY), "").await;
    assert_eq!(
        (s, j["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("no_scrub_config"))
    );

    let config = serde_json::json!({
        "service": "default",
        "rules": [{"path": "$.card.number", "replacement": "[CARD]"}],
        "extra_headers": ["x-tenant"],
        "extra_keys": ["pan"]
    });
    let (s, saved) = call_json(&app, "PUT", "/v1/scrub/config", config).await;
    assert_eq!(s, StatusCode::OK, "{saved}");
    let records = log
        .read(topics::CONFIG.name(), 0, 0, 10, None)
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].key.as_deref(), Some(&b"scrub:default"[..]));

    let (s, got) = call(
        &app,
        "GET",
        "/v1/scrub/config?service=default",
        Some(KEY),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["id"], saved["id"]);
    assert_eq!(got["rules"][0]["path"], "$.card.number");
    assert_eq!(got["rules"][0]["replacement"], "[CARD]");

    // Refusals name the problem and save nothing.
    for (body, code) in [
        (serde_json::json!({"rules": [{"path": "$"}]}), "bad_rule"),
        (serde_json::json!({"rules": [{"path": "$..*"}]}), "bad_rule"),
        (
            serde_json::json!({"rules": [{"path": "$.a[?"}]}),
            "bad_rule",
        ),
        (
            serde_json::json!({"extra_headers": ["bad header"]}),
            "bad_header",
        ),
        (serde_json::json!({"service": "nope"}), "unknown_service"),
        (serde_json::json!({"rulez": []}), "bad_json"),
    ] {
        let (s, j) = call_json(&app, "PUT", "/v1/scrub/config", body.clone()).await;
        assert!(s.is_client_error(), "{body}: {s}");
        assert_eq!(j["error"], code, "{body}: {j}");
        assert!(!j["detail"].as_str().unwrap().is_empty());
    }
    assert_eq!(
        log.read(topics::CONFIG.name(), 0, 0, 10, None)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn scrub_test_previews_a_rule_set_without_saving() {
    let (_d, app, log, _v) = app().await;
    let (s, j) = call_json(
        &app,
        "POST",
        "/v1/scrub/test",
        serde_json::json!({
            "config": {"rules": [{"path": "$.internal", "replacement": null}]},
            "sample": {
                "body": {"email": "ada@example.com", "internal": "x", "password": "hunter2"},
                "url": "/users?email=ada@example.com",
                "headers": {"authorization": "Bearer abc", "x-note": "mail ada@example.com"}
            }
        }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["body"]["email"], "[EMAIL]");
    assert_eq!(j["body"]["internal"], serde_json::Value::Null);
    assert_eq!(j["body"]["password"], "[REDACTED]");
    assert!(!j["url"].as_str().unwrap().contains("ada@"), "{j}");
    assert_eq!(j["headers"]["authorization"], "[REDACTED]");
    assert!(
        !j["headers"]["x-note"].as_str().unwrap().contains("ada@"),
        "{j}"
    );
    assert!(j["findings"]["email"].as_u64().unwrap() >= 1, "{j}");
    assert!(
        log.read(topics::CONFIG.name(), 0, 0, 10, None)
            .await
            .is_err(),
        "nothing saved"
    );
    let (s, j) = call_json(
        &app,
        "POST",
        "/v1/scrub/test",
        serde_json::json!({"sample": {}, "config": {"rules": [{"path": "$"}]}}),
    )
    .await;
    assert_eq!(
        (s, j["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_rule"))
    );
}

#[tokio::test]
async fn runs_need_a_proxy_in_process_and_a_numeric_id() {
    let (_d, app, _log, _v) = app().await;
    let (s, j) = call(&app, "GET", "/v1/proxy", Some(KEY), "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(j["proxy_url"], serde_json::Value::Null);
    let (s, j) = call(&app, "POST", "/v1/runs", Some(KEY), "").await;
    assert_eq!(
        (s, j["error"].as_str()),
        (StatusCode::NOT_IMPLEMENTED, Some("runs_unavailable"))
    );
    let (s, j) = call(&app, "DELETE", "/v1/runs/abc", Some(KEY), "").await;
    assert_eq!(
        (s, j["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_run_id"))
    );
    let (s, j) = call(&app, "GET", "/v1/runs/-1", Some(KEY), "").await;
    assert_eq!(
        (s, j["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_run_id"))
    );
    let (s, j) = call(&app, "GET", "/v1/runs/7", Some(KEY), "").await;
    assert_eq!(
        (s, j["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_run"))
    );
    let (s, _) = call(&app, "POST", "/v1/runs", None, "").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
