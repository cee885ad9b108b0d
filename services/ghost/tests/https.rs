//! `ghost up --upstream https://…` against an upstream that is not Rust:
//! Python's `http.server` behind Python's `ssl` module, with a certificate from
//! a test CA that ghost trusts through `SSL_CERT_FILE` (the platform-roots
//! path). LEARN equals calling the upstream directly with curl; MOCK replays
//! with the upstream gone. `insecure_skip_verify` shows in `GET /v1/services`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_test_util::clients::curl;
use ghost_test_util::tls::TestCa;
use ghost_test_util::{Ghost, Peer, TEST_API_KEY, send};
use http::{Method, StatusCode};
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_ghost");

const PATHS: [&str; 5] = [
    "/users/42?b=2&a=1",
    "/binary",
    "/gzip",
    "/chunked",
    "/missing",
];

#[tokio::test]
async fn records_and_replays_a_python_https_upstream() {
    let files = tempfile::tempdir().unwrap();
    let ca = TestCa::new("ghost e2e CA");
    let ca_file = ca.write(files.path(), "ca");
    let (cert, key) = ca.server(&["localhost"]).write(files.path(), "server");
    let mut peer = Peer::start_tls(&cert, &key).await;
    let upstream = format!("https://localhost:{}", peer.addr.port());
    let data = tempfile::tempdir().unwrap();
    let g = Ghost::start_with_env(
        Path::new(BIN),
        data.path(),
        &["--upstream", &upstream],
        &[("SSL_CERT_FILE", ca_file.to_str().unwrap())],
    )
    .await;
    let mut live = Vec::new();
    for p in PATHS {
        let r = send(Method::GET, &g.proxy_url(p), &[], "", false)
            .await
            .unwrap();
        assert_ne!(
            r.status,
            StatusCode::BAD_GATEWAY,
            "{p}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(
            &r.body[..],
            &curl(&[
                "--cacert",
                ca_file.to_str().unwrap(),
                &format!("{upstream}{p}")
            ])
            .await
            .stdout[..],
            "{p}: LEARN vs direct"
        );
        live.push(r);
    }
    g.set_mode("MOCK", None).await;
    peer.stop().await;
    for (p, live) in PATHS.iter().zip(&live) {
        let r = send(Method::GET, &g.proxy_url(p), &[], "", false)
            .await
            .unwrap();
        assert_eq!(r.status, live.status, "{p}");
        assert_eq!(r.body, live.body, "{p}");
        assert_eq!(r.header("x-ghost-mock"), Some("exact"), "{p}");
    }
    g.stop().await;
}

#[tokio::test]
async fn without_the_ca_ghost_refuses_and_insecure_skip_verify_is_flagged() {
    let files = tempfile::tempdir().unwrap();
    let ca = TestCa::new("untrusted CA");
    let (cert, key) = ca.server(&["localhost"]).write(files.path(), "server");
    let peer = Peer::start_tls(&cert, &key).await;
    let upstream = format!("https://localhost:{}", peer.addr.port());
    let config = files.path().join("ghost.toml");
    std::fs::write(
        &config,
        format!(
            "[[services]]\nname = \"strict\"\nupstream = \"{upstream}\"\npath_prefix = \"/strict\"\n\n\
             [[services]]\nname = \"lax\"\nupstream = \"{upstream}\"\npath_prefix = \"/users\"\ninsecure_skip_verify = true\n"
        ),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let g = Ghost::start(
        Path::new(BIN),
        data.path(),
        &["--config", config.to_str().unwrap()],
    )
    .await;
    let r = send(Method::GET, &g.proxy_url("/strict/x"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    let j = r.json();
    assert_eq!(j["error"], "upstream_tls");
    assert!(j["detail"].as_str().unwrap().contains("localhost"), "{j}");
    let r = send(Method::GET, &g.proxy_url("/users/7"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );

    let services = send(
        Method::GET,
        &g.control_url("/v1/services"),
        &[("x-api-key", TEST_API_KEY)],
        "",
        false,
    )
    .await
    .unwrap()
    .json();
    let list = services["services"].as_array().unwrap();
    let lax = list.iter().find(|s| s["name"] == "lax").unwrap();
    assert_eq!(lax["insecure_skip_verify"], true);
    assert!(
        lax["warning"]
            .as_str()
            .unwrap()
            .contains("insecure_skip_verify")
    );
    let strict = list.iter().find(|s| s["name"] == "strict").unwrap();
    assert!(strict.get("insecure_skip_verify").is_none());
    g.stop().await;
}
