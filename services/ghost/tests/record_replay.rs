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

/// Runs the ghost CLI as is (no `--data`), with the test API key.
async fn cli(args: &[&str], env: &[(&str, &str)]) -> (Output, String, String) {
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new(BIN)
            .args(args)
            .env("GHOST_API_KEY", ghost_test_util::TEST_API_KEY)
            .env("GHOST_LOG_LEVEL", "warn")
            .envs(env.iter().copied())
            .output(),
    )
    .await
    .expect("ghost finished within 120 s")
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out, stdout, stderr)
}

#[tokio::test]
async fn a_running_ghost_records_and_replays_through_its_control_url() {
    let files = tempfile::tempdir().unwrap();
    let ca = TestCa::new("control-url CA");
    let ca_file = ca.write(files.path(), "ca");
    let tls = TlsUpstream::start(&ca.server(&["localhost"]), None).await;
    let data = tempfile::tempdir().unwrap();
    let g = ghost_test_util::Ghost::start_with_env(
        Path::new(BIN),
        data.path(),
        &["--tls-intercept", "lax", "--tls-addr", "127.0.0.1:0"],
        &[("SSL_CERT_FILE", ca_file.to_str().unwrap())],
    )
    .await;
    g.set_mode("PASSTHROUGH", None).await;
    let control = g.control_url("");
    let script = format!("curl -sS --fail https://localhost:{}/users/1", tls.port());

    let (rec, out, err) = cli(
        &[
            "record",
            "--control-url",
            &control,
            "--",
            "sh",
            "-c",
            &script,
        ],
        &[],
    )
    .await;
    assert!(rec.status.success(), "{out}\n{err}");
    assert!(out.starts_with("tls ok /users/1"), "{out}");
    assert!(err.contains("1 exchange(s) recorded"), "{err}");
    assert!(err.contains("mode restored to PASSTHROUGH"), "{err}");
    let mode = ghost_test_util::send(
        http::Method::GET,
        &g.control_url("/v1/mode"),
        &[("x-api-key", ghost_test_util::TEST_API_KEY)],
        "",
        false,
    )
    .await
    .unwrap()
    .json();
    assert_eq!(mode["mode"], "PASSTHROUGH");

    tls.stop();
    let (rep, replayed, err) = cli(
        &[
            "replay",
            "--strict",
            "--control-url",
            &control,
            "--",
            "sh",
            "-c",
            &script,
        ],
        &[],
    )
    .await;
    assert!(rep.status.success(), "{replayed}\n{err}");
    assert_eq!(replayed, out, "the running ghost replays the same bytes");
    assert!(
        err.contains("1 answered from recordings, 0 missed"),
        "{err}"
    );

    // A wrong key is the control plane's clear refusal, and runs nothing.
    let (bad, _, err) = cli(
        &[
            "record",
            "--control-url",
            &control,
            "--",
            "sh",
            "-c",
            "echo ran",
        ],
        &[("GHOST_API_KEY", "wrong-key-wrong-key-0000")],
    )
    .await;
    assert!(!bad.status.success());
    assert!(
        err.contains("401") && err.contains("invalid API key"),
        "{err}"
    );
    // Flags for an in-process ghost are refused with the reason.
    let (bad, _, err) = cli(
        &[
            "record",
            "--control-url",
            &control,
            "--upstream",
            "http://127.0.0.1:1",
            "--",
            "true",
        ],
        &[],
    )
    .await;
    assert!(!bad.status.success());
    assert!(
        err.contains("--upstream configures a ghost started for the run"),
        "{err}"
    );
    g.stop().await;
}

#[tokio::test]
async fn a_service_map_names_what_is_recorded() {
    let mut plain = Peer::start(PeerKind::Python).await;
    let data = tempfile::tempdir().unwrap();
    let upstream = format!("http://127.0.0.1:{}", plain.addr.port());
    let map = format!("users={upstream}");
    let script = format!("curl -sS --fail {upstream}/users/7");
    let data_dir = data.path().to_str().unwrap();
    let (rec, out, err) = cli(
        &[
            "record",
            "--data",
            data_dir,
            "--service-map",
            &map,
            "--",
            "sh",
            "-c",
            &script,
        ],
        &[],
    )
    .await;
    assert!(rec.status.success(), "{out}\n{err}");
    assert!(err.contains("users: 1"), "{err}");
    plain.stop().await;
    // The saved services keep the name: replay needs no map.
    let (rep, replayed, err) = cli(
        &[
            "replay", "--strict", "--data", data_dir, "--", "sh", "-c", &script,
        ],
        &[],
    )
    .await;
    assert!(rep.status.success(), "{err}");
    assert_eq!(replayed, out);
    let (bad, _, err) = cli(
        &[
            "record",
            "--data",
            data_dir,
            "--service-map",
            "users",
            "--",
            "true",
        ],
        &[],
    )
    .await;
    assert!(!bad.status.success());
    assert!(err.contains("expected NAME=URL"), "{err}");
}
