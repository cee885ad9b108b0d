//! LEARN and MOCK against upstreams that are not hyper: Python's `http.server`
//! and Node's `http`, real processes on port 0 that route on the raw
//! request-target. Through ghost in LEARN every response equals calling the
//! upstream directly; in MOCK, with the upstream gone, every response equals
//! what LEARN returned — over HTTP/1.1 and h2c, and to curl and Python's urllib.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_test_util::clients::{curl, urllib_get};
use ghost_test_util::{Ghost, Peer, PeerKind, TestResponse, send};
use http::{Method, StatusCode};
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_ghost");

/// (method, path and query, body) of the mixed set; `/trailers` only on Node.
fn mixed(kind: PeerKind) -> Vec<(Method, &'static str, &'static str)> {
    let mut set = vec![
        (Method::GET, "/users/42?b=2&a=1", ""),
        (Method::GET, "/users/7?q=a+b&path=%2Fx%2Fy&empty=", ""),
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
        (Method::POST, "/echo?z=1&a=%20", r#"{"b":[1,2],"a":"x"}"#),
        (Method::PUT, "/echo", "plain text body"),
    ];
    if kind == PeerKind::Node {
        set.push((Method::GET, "/trailers", ""));
    }
    set
}

async fn call(url: &str, m: &Method, body: &str, h2: bool) -> TestResponse {
    let headers: &[(&str, &str)] = &[
        ("accept-encoding", "gzip"),
        ("content-type", "application/json"),
        ("te", "trailers"),
    ];
    send(m.clone(), url, headers, body.to_owned(), h2)
        .await
        .unwrap_or_else(|e| panic!("{m} {url}: {e}"))
}

/// The body of `GET url` as fetched by clients that are not ours: curl and
/// Python's `urllib` (each in its own process).
async fn foreign_clients(url: &str) -> [(&'static str, Vec<u8>); 2] {
    let curl = curl(&["--fail-with-body", "--http1.1", url]).await.stdout;
    [("curl", curl), ("urllib", urllib_get(url, &[]).await)]
}

fn same(a: &TestResponse, b: &TestResponse, what: &str) {
    assert_eq!(a.status, b.status, "{what}: status");
    assert_eq!(a.body, b.body, "{what}: body");
    assert_eq!(
        a.comparable_headers(),
        b.comparable_headers(),
        "{what}: headers"
    );
}

async fn learn_equals_direct_and_mock_equals_learn(kind: PeerKind) {
    let dir = tempfile::tempdir().unwrap();
    let mut peer = Peer::start(kind).await;
    let g = Ghost::start(Path::new(BIN), dir.path(), &["--upstream", &peer.url()]).await;
    let set = mixed(kind);
    let mut learned = Vec::new();
    for (m, p, b) in &set {
        let direct = call(&format!("{}{p}", peer.url()), m, b, false).await;
        let live = call(&g.proxy_url(p), m, b, false).await;
        same(&live, &direct, &format!("{kind:?} LEARN {m} {p} vs direct"));
        assert!(live.header("x-ghost-mock").is_none());
        if *p != "/missing" {
            assert_ne!(
                live.status,
                StatusCode::NOT_FOUND,
                "{kind:?} {m} {p}: the upstream did not route it"
            );
        }
        // The upstream saw the request-target exactly as the client sent it.
        if p.starts_with("/echo") {
            assert_eq!(live.header("x-echo-target"), Some(*p));
        }
        // An HTTP/2 client's request goes through the shared pool: same answer.
        let over_h2 = call(&g.proxy_url(p), m, b, true).await;
        same(
            &over_h2,
            &direct,
            &format!("{kind:?} LEARN h2c {m} {p} vs direct"),
        );
        learned.push(live);
    }
    // Clients that are not hyper see the same bytes through ghost as directly.
    let path = "/users/7?q=a+b&path=%2Fx%2Fy&empty=";
    let direct = call(&format!("{}{path}", peer.url()), &Method::GET, "", false).await;
    for (client, body) in foreign_clients(&g.proxy_url(path)).await {
        assert_eq!(body, direct.body, "{kind:?} LEARN via {client}");
    }
    let switched = g.set_mode("MOCK", None).await;
    assert_eq!(switched["mode"], "MOCK");
    peer.stop().await;
    for (client, body) in foreign_clients(&g.proxy_url(path)).await {
        assert_eq!(body, direct.body, "{kind:?} MOCK via {client}");
    }
    for ((m, p, b), live) in set.iter().zip(&learned) {
        for h2 in [false, true] {
            let mocked = call(&g.proxy_url(p), m, b, h2).await;
            same(
                &mocked,
                live,
                &format!("{kind:?} MOCK {m} {p} h2={h2} vs LEARN"),
            );
            assert_eq!(mocked.header("x-ghost-mock"), Some("exact"), "{m} {p}");
        }
    }
    g.stop().await;
}

#[tokio::test]
async fn python_http_server() {
    learn_equals_direct_and_mock_equals_learn(PeerKind::Python).await;
}

#[tokio::test]
async fn node_http() {
    learn_equals_direct_and_mock_equals_learn(PeerKind::Node).await;
}
