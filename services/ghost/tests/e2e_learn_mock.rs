//! LEARN → MOCK end to end through the real `ghost` binary and a real upstream:
//! every recorded response comes back identical with the upstream gone.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_test_util::{Ghost, TEST_API_KEY, TestResponse, Upstream, send};
use http::{Method, StatusCode};
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_ghost");

/// (method, path, body) of the mixed set.
fn mixed() -> Vec<(Method, &'static str, &'static str)> {
    vec![
        (Method::GET, "/users/42?b=2&a=1", ""),
        (Method::GET, "/binary", ""),
        (Method::GET, "/gzip", ""),
        (Method::GET, "/chunked", ""),
        (Method::DELETE, "/items/7", ""),
        (Method::HEAD, "/users/42", ""),
        (Method::GET, "/redirect", ""),
        (Method::GET, "/etag", ""),
        (Method::GET, "/missing", ""),
        (Method::GET, "/boom", ""),
        (Method::GET, "/large", ""),
        (Method::POST, "/echo", r#"{"b":[1,2],"a":"x"}"#),
        (Method::PUT, "/echo", "plain text body"),
    ]
}

async fn call(g: &Ghost, m: &Method, path: &str, body: &str, h2: bool) -> TestResponse {
    let headers: &[(&str, &str)] = &[
        ("accept-encoding", "gzip"),
        ("content-type", "application/json"),
    ];
    send(m.clone(), &g.proxy_url(path), headers, body.to_owned(), h2)
        .await
        .unwrap()
}

async fn record_then_mock(data: &Path) -> (Ghost, Vec<TestResponse>, Upstream) {
    let up = Upstream::start("unused").await;
    let g = Ghost::start(Path::new(BIN), data, &["--upstream", &up.url()]).await;
    let mut live = Vec::new();
    for (m, p, b) in mixed() {
        let r = call(&g, &m, p, b, false).await;
        assert_ne!(
            r.status,
            StatusCode::BAD_GATEWAY,
            "{p}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(r.header("x-ghost-mock").is_none());
        live.push(r);
    }
    let switched = g.set_mode("MOCK", None).await;
    assert_eq!(switched["mode"], "MOCK");
    (g, live, up)
}

#[tokio::test]
async fn learn_then_mock_replays_the_mixed_set_identically() {
    let dir = tempfile::tempdir().unwrap();
    let (g, live, mut up) = record_then_mock(dir.path()).await;
    up.stop();
    let hits = up.hits();
    for ((m, p, b), live) in mixed().into_iter().zip(&live) {
        for h2 in [false, true] {
            let mocked = call(&g, &m, p, b, h2).await;
            assert_eq!(mocked.status, live.status, "{m} {p} h2={h2}");
            assert_eq!(mocked.body, live.body, "{m} {p} h2={h2}: body differs");
            assert_eq!(
                mocked.comparable_headers(),
                live.comparable_headers(),
                "{m} {p} h2={h2}: headers differ"
            );
            assert_eq!(mocked.header("x-ghost-mock"), Some("exact"), "{m} {p}");
            if m == Method::HEAD {
                assert_eq!(
                    mocked.header("content-length"),
                    live.header("content-length")
                );
            }
        }
    }
    // Query order and JSON key order do not matter for exact matching.
    let r = call(&g, &Method::GET, "/users/42?a=1&b=2", "", false).await;
    assert_eq!(r.header("x-ghost-mock"), Some("exact"));
    let r = call(
        &g,
        &Method::POST,
        "/echo",
        r#"{ "a": "x", "b": [1, 2] }"#,
        false,
    )
    .await;
    assert_eq!(r.header("x-ghost-mock"), Some("exact"));
    assert_eq!(r.body, live[11].body);
    assert_eq!(up.hits(), hits, "MOCK must not touch the upstream");
    g.stop().await;
}

#[tokio::test]
async fn smart_swap_and_explained_misses() {
    let dir = tempfile::tempdir().unwrap();
    let (g, _live, mut up) = record_then_mock(dir.path()).await;
    up.stop();
    let r = call(&g, &Method::GET, "/users/99?a=1&b=2", "", false).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-ghost-mock"), Some("smart-swap"));
    let text = String::from_utf8(r.body.to_vec()).unwrap();
    assert_eq!(
        text,
        "{\n  \"id\": 99,\n  \"name\": \"User 42\",\n  \"links\": {\"self\": \"/users/99\"},\n  \"q\": \"b=2&a=1\"\n}\n"
    );
    assert_eq!(
        r.header("content-length"),
        Some(text.len().to_string().as_str())
    );

    let r = call(&g, &Method::GET, "/orders/list", "", false).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("x-ghost-mock"), Some("miss"));
    let j = r.json();
    assert_eq!(j["error"], "ghost_miss");
    let candidates = j["miss"]["candidates"].as_array().unwrap();
    assert!(!candidates.is_empty() && candidates.len() <= 3, "{j}");
    assert!(
        candidates
            .iter()
            .all(|c| !c["reasons"].as_array().unwrap().is_empty()),
        "{j}"
    );

    // Same path, different body: the nearest candidate says the body differs.
    let r = call(&g, &Method::POST, "/echo", r#"{"a":"other"}"#, false).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let j = r.json();
    let first = &j["miss"]["candidates"][0];
    assert_eq!(first["uri"], "/echo", "{j}");
    assert!(first["reasons"].to_string().contains("body differs"), "{j}");
    g.stop().await;
}

#[tokio::test]
async fn repeated_requests_replay_in_recorded_order_then_the_last_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let mut up = Upstream::start("unused").await;
    let g = Ghost::start(Path::new(BIN), dir.path(), &["--upstream", &up.url()]).await;
    for n in 1..=3 {
        let r = call(&g, &Method::GET, "/counter", "", false).await;
        assert_eq!(r.body, format!("{{\"n\":{n}}}"));
    }
    g.set_mode("MOCK", None).await;
    up.stop();
    for n in [1, 2, 3, 3, 3] {
        let r = call(&g, &Method::GET, "/counter", "", false).await;
        assert_eq!(r.body, format!("{{\"n\":{n}}}"), "replay order");
    }
    // Entering MOCK again rewinds the replay.
    g.set_mode("MOCK", None).await;
    let r = call(&g, &Method::GET, "/counter", "", false).await;
    assert_eq!(r.body, "{\"n\":1}");
    g.stop().await;
}

#[tokio::test]
async fn passthrough_records_nothing_and_restart_keeps_library_and_mode() {
    let dir = tempfile::tempdir().unwrap();
    let mut up = Upstream::start("unused").await;
    let g = Ghost::start(Path::new(BIN), dir.path(), &["--upstream", &up.url()]).await;
    call(&g, &Method::GET, "/users/1", "", false).await;
    g.set_mode("PASSTHROUGH", None).await;
    let r = call(&g, &Method::GET, "/users/2", "", false).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("x-ghost-mock").is_none());
    g.set_mode("MOCK", None).await;
    let mocks = send(
        Method::GET,
        &g.control_url("/v1/mocks"),
        &[("x-api-key", TEST_API_KEY)],
        "",
        false,
    )
    .await
    .unwrap()
    .json();
    assert_eq!(
        mocks["total"], 1,
        "only the LEARN request is recorded: {mocks}"
    );
    assert_eq!(mocks["items"][0]["uri"], "/users/1");
    g.stop().await;
    up.stop();

    // Restart without --upstream: services, library and mode come back.
    let g = Ghost::start(Path::new(BIN), dir.path(), &[]).await;
    let mode = send(
        Method::GET,
        &g.control_url("/v1/mode"),
        &[("x-api-key", TEST_API_KEY)],
        "",
        false,
    )
    .await
    .unwrap()
    .json();
    assert_eq!(mode["mode"], "MOCK");
    let r = call(&g, &Method::GET, "/users/1", "", false).await;
    assert_eq!(r.header("x-ghost-mock"), Some("exact"));
    let r = call(&g, &Method::GET, "/users/2", "", false).await;
    assert_eq!(
        r.header("x-ghost-mock"),
        Some("smart-swap"),
        "PASSTHROUGH recorded nothing"
    );
    g.stop().await;
}

#[tokio::test]
async fn per_service_modes_and_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::start("unused").await;
    let g = Ghost::start(Path::new(BIN), dir.path(), &["--upstream", &up.url()]).await;
    call(&g, &Method::GET, "/users/5", "", false).await;
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(BIN)
            .args(args)
            .args(["--control-url", &g.control_url("")])
            .env("GHOST_API_KEY", TEST_API_KEY)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).trim().to_owned(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    assert_eq!(cli(&["mode", "get"]).1, "LEARN");
    let (ok, out, err) = cli(&["mode", "set", "mock", "--service", "default"]);
    assert!(ok, "{err}");
    assert_eq!(out, "MOCK");
    assert_eq!(
        cli(&["mode", "get", "--service", "default"]).1,
        "default: MOCK"
    );
    assert_eq!(cli(&["mode", "get"]).1, "LEARN", "global mode unchanged");
    let r = call(&g, &Method::GET, "/users/5", "", false).await;
    assert_eq!(r.header("x-ghost-mock"), Some("exact"));
    let (ok, _, err) = cli(&["mode", "set", "replay"]);
    assert!(!ok && err.contains("unknown mode"), "{err}");
    let (ok, _, err) = cli(&["mode", "get", "--service", "nope"]);
    assert!(!ok && err.contains("unknown_service"), "{err}");
    g.stop().await;
}
