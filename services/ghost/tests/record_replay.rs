//! `ghost record -- CMD` then `ghost replay --strict -- CMD` with the upstreams
//! gone: the command reaches an HTTPS upstream and a plain one only through
//! the proxy variables and CA ghost hands it, and gets the same bytes back
//! from the recordings; misses fail a strict run and the JUnit report; the
//! command's exit status is ghost's.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_test_util::tls::{TestCa, TlsUpstream};
use ghost_test_util::{Peer, PeerKind};
use std::path::Path;
use std::process::Output;

const BIN: &str = env!("CARGO_BIN_EXE_ghost");

async fn ghost(data: &Path, args: &[&str], upstream_ca: &Path) -> Output {
    tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new(BIN)
            .args(&args[..1])
            .arg("--data")
            .arg(data)
            .args(&args[1..])
            .env("SSL_CERT_FILE", upstream_ca)
            .env("GHOST_LOG_LEVEL", "warn")
            .output(),
    )
    .await
    .expect("ghost finished within 120 s")
    .unwrap()
}

#[tokio::test]
async fn record_then_replay_a_command_with_the_network_gone() {
    let files = tempfile::tempdir().unwrap();
    let ca = TestCa::new("record CA");
    let ca_file = ca.write(files.path(), "ca");
    let tls = TlsUpstream::start(&ca.server(&["localhost"]), None).await;
    let mut plain = Peer::start(PeerKind::Python).await;
    let script = format!(
        "curl -sS --fail https://localhost:{}/users/1 && echo && curl -sS --fail http://127.0.0.1:{}/users/42?a=1",
        tls.port(),
        plain.addr.port()
    );
    let data = tempfile::tempdir().unwrap();
    let rec = ghost(
        data.path(),
        &["record", "--", "sh", "-c", &script],
        &ca_file,
    )
    .await;
    let out = String::from_utf8_lossy(&rec.stdout).to_string();
    let err = String::from_utf8_lossy(&rec.stderr).to_string();
    assert!(rec.status.success(), "{out}\n{err}");
    assert!(
        out.starts_with("tls ok /users/1\n") && out.contains("\"id\": 42"),
        "{out}"
    );
    assert!(err.contains("2 exchange(s) recorded"), "{err}");
    assert!(
        err.contains(&format!("localhost-{}: 1", tls.port())),
        "{err}"
    );

    tls.stop();
    plain.stop().await;
    let junit = files.path().join("replay.xml");
    let rep = ghost(
        data.path(),
        &[
            "replay",
            "--strict",
            "--junit",
            junit.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            &script,
        ],
        &ca_file,
    )
    .await;
    let replayed = String::from_utf8_lossy(&rep.stdout).to_string();
    assert!(
        rep.status.success(),
        "{replayed}\n{}",
        String::from_utf8_lossy(&rep.stderr)
    );
    assert_eq!(replayed, out, "replay gives the command the same bytes");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("tests=\"2\"") && xml.contains("failures=\"0\""),
        "{xml}"
    );

    // A request nobody recorded fails a strict replay, and is listed.
    let missing = format!("curl -sS https://localhost:{}/never-recorded", tls.port());
    let rep = ghost(
        data.path(),
        &[
            "replay",
            "--strict",
            "--junit",
            junit.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            &missing,
        ],
        &ca_file,
    )
    .await;
    assert_eq!(rep.status.code(), Some(1));
    let err = String::from_utf8_lossy(&rep.stderr).to_string();
    assert!(
        err.contains("/never-recorded") && err.contains("1 missed"),
        "{err}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("failures=\"1\""), "{xml}");

    // The command's own status is ghost's.
    let rep = ghost(
        data.path(),
        &["replay", "--", "sh", "-c", "exit 3"],
        &ca_file,
    )
    .await;
    assert_eq!(rep.status.code(), Some(3));
}
