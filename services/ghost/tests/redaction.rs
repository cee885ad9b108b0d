//! Credential headers never reach disk: every floor header (and a REDACT_HEADERS
//! addition) carries a canary in requests and responses; afterwards not one
//! canary byte exists anywhere under the data directory.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_test_util::{Ghost, TEST_API_KEY, Upstream, canary_headers, send};
use http::{Method, StatusCode};
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_ghost");
const CANARY: &str = "c4n4ry-7f3e9b";

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn no_canary_byte_is_written_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let mut up = Upstream::start(CANARY).await;
    let g = Ghost::start(
        Path::new(BIN),
        dir.path(),
        &[
            "--upstream",
            &up.url(),
            "--redact-headers",
            "X-Tenant-Secret",
            "--fsync",
            "always",
        ],
    )
    .await;
    let mut headers: Vec<(String, String)> = canary_headers(CANARY);
    headers.push(("x-tenant-secret".into(), format!("{CANARY}-tenant")));
    // Mixed case on the wire must not matter.
    headers.push((
        "X-Api-Key".replace("Api", "API"),
        format!("{CANARY}-mixedcase"),
    ));
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for path in ["/secret", "/users/1", "/echo"] {
        let r = send(
            Method::POST,
            &g.proxy_url(path),
            &pairs,
            "plain body",
            false,
        )
        .await
        .unwrap();
        assert_ne!(r.status, StatusCode::BAD_GATEWAY);
    }
    let r = send(Method::GET, &g.proxy_url("/secret"), &pairs, "", false)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header("set-cookie").unwrap().contains(CANARY),
        "LEARN passes headers through live"
    );

    g.set_mode("MOCK", None).await;
    up.stop();
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
    assert_eq!(mocks["total"], 4, "everything was recorded: {mocks}");
    let r = send(Method::GET, &g.proxy_url("/secret"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(r.header("x-ghost-mock"), Some("exact"));
    assert_eq!(r.body, "ok");
    for (name, _) in canary_headers(CANARY) {
        assert!(
            r.header(&name).is_none(),
            "redacted header {name} must not be replayed"
        );
    }
    g.stop().await;

    let mut files = Vec::new();
    files_under(dir.path(), &mut files);
    assert!(
        files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "seg")),
        "log segments exist"
    );
    let mut redacted_seen = false;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(
            !contains(&bytes, CANARY.as_bytes()),
            "canary found in {}",
            f.display()
        );
        redacted_seen |= contains(&bytes, b"[REDACTED]");
    }
    assert!(redacted_seen, "redacted header values were recorded");
}
