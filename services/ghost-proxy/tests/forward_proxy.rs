//! ghost as a forward proxy: clients that set `HTTP_PROXY`/`HTTPS_PROXY` (curl,
//! Python's urllib) reach any origin through a service created on the fly,
//! recorded in LEARN and replayed in MOCK; CONNECT tunnels pass through blind
//! without interception (never recorded, refused in MOCK); and a listener
//! beyond loopback serves only hosts matching `--allow-hosts`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_log::SharedLog;
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog};
use ghost_proxy::{ProxyConfig, RunningProxy};
use ghost_schema::{CaptureRecord, ModeRecord};
use ghost_test_util::clients::{curl, urllib_get};
use ghost_test_util::tls::{TestCa, TlsUpstream};
use ghost_test_util::{Upstream, send};
use ghost_topics as topics;
use std::net::SocketAddr;
use std::process::Output;
use std::time::Duration;

async fn start(
    listen: &str,
    allow: Option<&[&str]>,
) -> (RunningProxy, SharedLog, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let log: SharedLog = EmbeddedLog::open(EmbeddedConfig::new(dir.path()))
        .await
        .unwrap();
    let mut config = ProxyConfig::new(listen.parse().unwrap());
    config.allow_hosts = allow.map(|a| a.iter().map(|s| s.to_string()).collect());
    (
        ghost_proxy::start(config, log.clone()).await.unwrap(),
        log,
        dir,
    )
}

fn proxy_url(p: &RunningProxy) -> String {
    format!("http://127.0.0.1:{}", p.local_addr.port())
}

async fn curl_via(proxy: &str, url: &str, extra: &[&str]) -> Output {
    let mut args = vec!["--proxy", proxy];
    args.extend_from_slice(extra);
    args.push(url);
    curl(&args).await
}

async fn set_mode(proxy: &RunningProxy, log: &SharedLog, mode: ModeRecord) {
    let offset = ghost_test_util::publish_mode(&**log, &format!("{mode:?}"), mode).await;
    proxy
        .state
        .wait_mode_applied(offset, None, Duration::from_secs(10))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_origin_is_recorded_under_its_own_service_and_replayed() {
    let mut up = Upstream::start("unused").await;
    let (proxy, log, _dir) = start("127.0.0.1:0", None).await;
    let target = format!("http://{}/users/7?q=a+b", up.addr);
    let direct = send(http::Method::GET, &target, &[], "", false)
        .await
        .unwrap();
    let via_curl = curl_via(&proxy_url(&proxy), &target, &[]).await.stdout;
    assert_eq!(via_curl, direct.body);
    assert_eq!(
        urllib_get(&target, &[("http_proxy", &proxy_url(&proxy))]).await,
        direct.body
    );

    let lib = proxy.state.catch_up().await;
    assert!(lib.len() >= 2);
    let service = format!("127.0.0.1-{}", up.addr.port());
    let mut captures = Vec::new();
    for p in 0..topics::CAPTURES.spec().unwrap().partitions {
        for r in log
            .read(topics::CAPTURES.name(), p, 0, 100, None)
            .await
            .unwrap()
        {
            captures
                .push(ghost_schema::decode::<CaptureRecord>(r.value.as_ref().unwrap()).unwrap());
        }
    }
    assert!(
        captures
            .iter()
            .all(|c| c.service == service && c.uri == "/users/7?q=a+b"),
        "{captures:?}"
    );
    assert!(
        proxy
            .state
            .services()
            .iter()
            .any(|s| s.name.as_str() == service)
    );

    set_mode(&proxy, &log, ModeRecord::Mock).await;
    up.stop();
    let replay = curl_via(&proxy_url(&proxy), &target, &["-i"]).await.stdout;
    let text = String::from_utf8_lossy(&replay).to_string();
    assert!(text.contains("x-ghost-mock: exact"), "{text}");
    assert!(replay.ends_with(&direct.body), "{text}");

    // A request that would be forwarded back to ghost itself is refused.
    let own = format!("http://127.0.0.1:{}/users/7", proxy.local_addr.port());
    let looped = curl_via(&proxy_url(&proxy), &own, &["-i"]).await.stdout;
    let text = String::from_utf8_lossy(&looped).to_string();
    assert!(
        text.starts_with("HTTP/1.1 508") && text.contains("proxy_loop"),
        "{text}"
    );
    proxy.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_tunnels_pass_through_blind_and_are_refused_in_mock() {
    let files = tempfile::tempdir().unwrap();
    let ca = TestCa::new("tunnel CA");
    let ca_file = ca.write(files.path(), "ca");
    let up = TlsUpstream::start(&ca.server(&["localhost"]), None).await;
    let (proxy, log, _dir) = start("127.0.0.1:0", None).await;
    let target = format!("https://localhost:{}/inside", up.port());
    let out = curl_via(
        &proxy_url(&proxy),
        &target,
        &["--cacert", ca_file.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.stdout, b"tls ok /inside");
    // Nothing inside a blind tunnel is recorded.
    assert_eq!(proxy.state.catch_up().await.len(), 0);
    let metrics = send(
        http::Method::GET,
        &format!("{}/_ghost/metrics", proxy_url(&proxy)),
        &[],
        "",
        false,
    )
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&metrics.body).to_string();
    assert!(
        text.contains("ghost_tunnels_total{kind=\"blind\"} 1"),
        "{text}"
    );

    set_mode(&proxy, &log, ModeRecord::Mock).await;
    let out = tokio::process::Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_connect}",
            "--proxy",
            &proxy_url(&proxy),
            &target,
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "503");
    proxy.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_loopback_only_allowed_hosts_are_served() {
    let up = Upstream::start("unused").await;
    let target = format!("http://{}/users/1", up.addr);
    let port = |p: &RunningProxy| -> SocketAddr { ([127, 0, 0, 1], p.local_addr.port()).into() };

    let (open, _l1, _d1) = start("0.0.0.0:0", None).await;
    let out = curl_via(&format!("http://{}", port(&open)), &target, &["-i"])
        .await
        .stdout;
    let text = String::from_utf8_lossy(&out).to_string();
    assert!(text.starts_with("HTTP/1.1 403"), "{text}");
    assert!(
        text.contains("host_not_allowed") && text.contains("--allow-hosts"),
        "{text}"
    );

    let (listed, _l2, _d2) = start("0.0.0.0:0", Some(&["127.0.0.1"])).await;
    let out = curl_via(&format!("http://{}", port(&listed)), &target, &["-i"])
        .await
        .stdout;
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 200"));

    let (other, _l3, _d3) = start("0.0.0.0:0", Some(&["*.example.com"])).await;
    let out = curl_via(&format!("http://{}", port(&other)), &target, &["-i"])
        .await
        .stdout;
    let text = String::from_utf8_lossy(&out).to_string();
    assert!(
        text.starts_with("HTTP/1.1 403") && text.contains("does not match"),
        "{text}"
    );
    // Tunnels obey the same list.
    let out = tokio::process::Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_connect}",
            "--proxy",
            &format!("http://{}", port(&other)),
            "https://127.0.0.1:9/",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "403");
    for p in [open, listed, other] {
        p.shutdown(Duration::from_secs(5)).await;
    }
}
