//! Bad input gets a clear JSON error with the right status, and changes nothing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_test_util::{Ghost, TEST_API_KEY, Upstream, send};
use http::{Method, StatusCode};
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_ghost");

fn assert_error(r: &ghost_test_util::TestResponse, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    let j = r.json();
    assert_eq!(j["error"], code, "{j}");
    assert!(
        !j["detail"].as_str().unwrap_or("").is_empty(),
        "detail missing: {j}"
    );
}

#[tokio::test]
async fn control_api_rejects_bad_input_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::start("unused").await;
    let g = Ghost::start(Path::new(BIN), dir.path(), &["--upstream", &up.url()]).await;
    let key = [("x-api-key", TEST_API_KEY)];
    let post =
        |path: &str, body: &'static str, headers: &'static [(&'static str, &'static str)]| {
            let url = g.control_url(path);
            async move {
                send(Method::POST, &url, headers, body, false)
                    .await
                    .unwrap()
            }
        };
    const KEY: &[(&str, &str)] = &[("x-api-key", TEST_API_KEY)];

    assert_error(
        &post("/v1/mode", "{not json", KEY).await,
        StatusCode::BAD_REQUEST,
        "bad_json",
    );
    assert_error(
        &post("/v1/mode", "", KEY).await,
        StatusCode::BAD_REQUEST,
        "bad_json",
    );
    assert_error(
        &post("/v1/mode", r#"{"mode":"REPLAY"}"#, KEY).await,
        StatusCode::BAD_REQUEST,
        "bad_mode",
    );
    assert_error(
        &post("/v1/mode", r#"{"mode":"TRANSITIONING"}"#, KEY).await,
        StatusCode::BAD_REQUEST,
        "bad_mode",
    );
    assert_error(
        &post("/v1/mode", r#"{"mode":"MOCK","x":1}"#, KEY).await,
        StatusCode::BAD_REQUEST,
        "bad_json",
    );
    assert_error(
        &post("/v1/mode", r#"{"mode":"MOCK"}"#, &[]).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        &post(
            "/v1/mode",
            r#"{"mode":"MOCK"}"#,
            &[("x-api-key", "wrong-key-000000000")],
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        &post("/v1/mode?service=nope", r#"{"mode":"MOCK"}"#, KEY).await,
        StatusCode::NOT_FOUND,
        "unknown_service",
    );
    assert_error(
        &post("/v1/mode?service=bad%20name", r#"{"mode":"MOCK"}"#, KEY).await,
        StatusCode::BAD_REQUEST,
        "bad_service",
    );
    assert_error(
        &post("/v1/mode?bogus=1", r#"{"mode":"MOCK"}"#, KEY).await,
        StatusCode::BAD_REQUEST,
        "bad_query",
    );

    let get = |path: &str| {
        let url = g.control_url(path);
        async move { send(Method::GET, &url, &key, "", false).await.unwrap() }
    };
    assert_error(
        &get("/v1/mocks?page=0").await,
        StatusCode::BAD_REQUEST,
        "bad_query",
    );
    assert_error(
        &get("/v1/mocks?per_page=5000").await,
        StatusCode::BAD_REQUEST,
        "bad_query",
    );
    assert_error(
        &get("/v1/mocks?page=abc").await,
        StatusCode::BAD_REQUEST,
        "bad_query",
    );
    assert_error(
        &get("/v1/mocks?service=nope").await,
        StatusCode::NOT_FOUND,
        "unknown_service",
    );
    assert_error(
        &get("/v1/nothing").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let r = send(Method::DELETE, &g.control_url("/v1/mode"), &key, "", false)
        .await
        .unwrap();
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(
        send(Method::GET, &g.control_url("/healthz"), &[], "", false)
            .await
            .unwrap()
            .status,
        StatusCode::OK
    );
    assert_eq!(
        send(Method::GET, &g.control_url("/readyz"), &[], "", false)
            .await
            .unwrap()
            .status,
        StatusCode::OK
    );

    // None of that changed the mode.
    let mode = get("/v1/mode").await.json();
    assert_eq!(mode["mode"], "LEARN");
    let services = get("/v1/services").await.json();
    assert_eq!(services["services"][0]["name"], "default");
    g.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_413_and_truncated_captures_are_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let mut up = Upstream::start("unused").await;
    let g = Ghost::start(
        Path::new(BIN),
        dir.path(),
        &["--upstream", &up.url(), "--max-body-bytes", "65536"],
    )
    .await;
    let big = vec![b'x'; 65537];
    let r = send(Method::POST, &g.proxy_url("/echo"), &[], big.clone(), false)
        .await
        .unwrap();
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    let r = send(Method::POST, &g.proxy_url("/echo"), &[], big, true)
        .await
        .unwrap();
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    let ok = send(
        Method::POST,
        &g.proxy_url("/echo"),
        &[],
        vec![b'y'; 65536],
        false,
    )
    .await
    .unwrap();
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body.len(), 65536);

    // A 1 MiB response streams through in LEARN but is too large to record whole.
    let r = send(Method::GET, &g.proxy_url("/large"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(r.body, ghost_test_util::upstream_large_body());
    g.set_mode("MOCK", None).await;
    up.stop();
    let r = send(Method::GET, &g.proxy_url("/large"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a truncated capture must not be served"
    );
    let r = send(
        Method::POST,
        &g.proxy_url("/echo"),
        &[],
        vec![b'y'; 65536],
        false,
    )
    .await
    .unwrap();
    assert_eq!(r.header("x-ghost-mock"), Some("exact"));
    g.stop().await;
}

#[tokio::test]
async fn unreachable_upstream_is_a_clear_502() {
    let dir = tempfile::tempdir().unwrap();
    let mut up = Upstream::start("unused").await;
    let url = up.url();
    up.stop();
    drop(up);
    let g = Ghost::start(Path::new(BIN), dir.path(), &["--upstream", &url]).await;
    let r = send(Method::GET, &g.proxy_url("/users/1"), &[], "", false)
        .await
        .unwrap();
    assert_error(&r, StatusCode::BAD_GATEWAY, "upstream_unavailable");
    g.stop().await;
}

/// A supervisor may send SIGTERM the moment the addresses are printed: ghost must
/// drain and exit 0. (The handlers are registered before anything is printed; the
/// race this guards against was seen once under full-suite load and is too narrow
/// to reproduce deterministically here, so this checks early clean shutdown.)
#[tokio::test]
async fn sigterm_right_after_startup_is_a_clean_shutdown() {
    for _ in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let g = Ghost::start(Path::new(BIN), dir.path(), &[]).await;
        g.stop().await;
    }
}
