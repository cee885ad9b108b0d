//! TLS interception: with `--tls-intercept`, a CONNECT tunnel ends at ghost,
//! which presents a leaf for the target minted from its own CA and handles the
//! requests inside like plain ones. curl, Python's urllib (HTTPS_PROXY) and
//! Node's `https` (an explicit CONNECT agent), trusting ghost's CA from
//! `/_ghost/ca.crt`, record through it in LEARN and
//! get the same bytes back in MOCK with the upstream gone. The CA key is 0600
//! and appears nowhere else; strict refuses to start without its listener.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_test_util::clients::{curl, node_https_via_connect, urllib_get};
use ghost_test_util::tls::{TestCa, TlsUpstream};
use ghost_test_util::{Ghost, send};
use http::{Method, StatusCode};
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_ghost");

#[tokio::test]
async fn intercepted_tunnels_record_and_replay() {
    let files = tempfile::tempdir().unwrap();
    let upstream_ca = TestCa::new("upstream CA");
    let upstream_ca_file = upstream_ca.write(files.path(), "upstream-ca");
    let up = TlsUpstream::start(&upstream_ca.server(&["localhost", "127.0.0.1"]), None).await;
    let data = tempfile::tempdir().unwrap();
    let g = Ghost::start_with_env(
        Path::new(BIN),
        data.path(),
        &["--tls-intercept", "strict", "--tls-addr", "127.0.0.1:0"],
        &[("SSL_CERT_FILE", upstream_ca_file.to_str().unwrap())],
    )
    .await;
    let proxy = format!("http://{}", g.proxy);

    // The CA, as clients fetch it; its key is the owner's alone.
    let ca = send(Method::GET, &g.proxy_url("/_ghost/ca.crt"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(ca.status, StatusCode::OK);
    let ghost_ca = files.path().join("ghost-ca.pem");
    std::fs::write(&ghost_ca, &ca.body).unwrap();
    let key_file = data.path().join("tls/ghost-ca.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // LEARN through the tunnel: a leaf for a DNS name and one for an IP literal.
    let by_name = format!("https://localhost:{}/users/1", up.port());
    let by_ip = format!("https://127.0.0.1:{}/users/2", up.port());
    let ca_arg = ghost_ca.to_str().unwrap();
    let users3 = format!("https://localhost:{}/users/3", up.port());
    let a = curl(&["--proxy", &proxy, "--cacert", ca_arg, &by_name])
        .await
        .stdout;
    assert_eq!(a, b"tls ok /users/1");
    let b = curl(&["--proxy", &proxy, "--cacert", ca_arg, &by_ip])
        .await
        .stdout;
    assert_eq!(b, b"tls ok /users/2");
    let c = urllib_get(
        &users3,
        &[("https_proxy", &proxy), ("SSL_CERT_FILE", ca_arg)],
    )
    .await;
    assert_eq!(c, b"tls ok /users/3");
    let node_url = format!("https://localhost:{}/users/4?via=node", up.port());
    assert_eq!(
        node_https_via_connect(&node_url, &g.proxy.to_string(), &ghost_ca).await,
        b"tls ok /users/4"
    );
    let hits = up.hits();
    assert_eq!(hits, 4);

    let metrics = send(Method::GET, &g.proxy_url("/_ghost/metrics"), &[], "", false)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&metrics.body).to_string();
    assert!(
        text.contains("ghost_tunnels_total{kind=\"intercepted\"} 4"),
        "{text}"
    );
    assert!(
        text.contains("ghost_tls_leaf_cache_total{result=\"miss\"} 2"),
        "{text}"
    );

    // MOCK with the upstream gone: the same bytes, through the same tunnels.
    g.set_mode("MOCK", None).await;
    up.stop();
    let replay = curl(&["-i", "--proxy", &proxy, "--cacert", ca_arg, &by_name])
        .await
        .stdout;
    let text = String::from_utf8_lossy(&replay).to_string();
    assert!(
        text.contains("x-ghost-mock: exact") && text.ends_with("tls ok /users/1"),
        "{text}"
    );
    let replay = urllib_get(
        &users3,
        &[("https_proxy", &proxy), ("SSL_CERT_FILE", ca_arg)],
    )
    .await;
    assert_eq!(replay, b"tls ok /users/3");
    assert_eq!(
        node_https_via_connect(&node_url, &g.proxy.to_string(), &ghost_ca).await,
        b"tls ok /users/4"
    );
    assert_eq!(up.hits(), hits);

    // The TLS listener: SNI names the service (here one with no recordings).
    let tls = g.tls.expect("TLS listener address printed");
    let resolve = format!("api.example.test:{}:127.0.0.1", tls.port());
    let direct = format!("https://api.example.test:{}/nothing", tls.port());
    let out = curl(&["-i", "--resolve", &resolve, "--cacert", ca_arg, &direct])
        .await
        .stdout;
    let text = String::from_utf8_lossy(&out).to_string();
    assert!(text.contains("x-ghost-mock: miss"), "{text}");

    // No byte of the CA key anywhere but its own file: not in the log, a topic
    // or a capture.
    let key_pem = std::fs::read_to_string(&key_file).unwrap();
    let secret = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>();
    let needle = &secret.as_bytes()[..secret.len().min(40)];
    for entry in walk(data.path()) {
        if entry == key_file {
            continue;
        }
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "CA key material in {}",
            entry.display()
        );
    }
    g.stop().await;
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn strict_refuses_to_start_without_its_listener_and_lax_serves_on() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let data = tempfile::tempdir().unwrap();
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tokio::process::Command::new(BIN)
            .args(["up", "--data"])
            .arg(data.path())
            .args([
                "--proxy-addr",
                "127.0.0.1:0",
                "--control-addr",
                "127.0.0.1:0",
            ])
            .args(["--tls-intercept", "strict", "--tls-addr", &addr])
            .env("GHOST_API_KEY", ghost_test_util::TEST_API_KEY)
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&addr), "{err}");

    let data = tempfile::tempdir().unwrap();
    let g = Ghost::start(
        Path::new(BIN),
        data.path(),
        &["--tls-intercept", "lax", "--tls-addr", &addr],
    )
    .await;
    assert!(g.tls.is_none());
    let r = send(Method::GET, &g.proxy_url("/_ghost/ca.crt"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the CA still serves CONNECT interception"
    );
    g.stop().await;
    drop(taken);
}

#[tokio::test]
async fn the_ca_endpoint_says_when_interception_is_off() {
    let data = tempfile::tempdir().unwrap();
    let g = Ghost::start(Path::new(BIN), data.path(), &[]).await;
    let r = send(Method::GET, &g.proxy_url("/_ghost/ca.crt"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json()["error"], "interception_off");
    g.stop().await;
}
