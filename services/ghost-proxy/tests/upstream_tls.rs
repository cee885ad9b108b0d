//! `https://` upstreams: recorded and replayed through rustls, h2 by ALPN,
//! private CAs through `ca_file`, mTLS, and every TLS failure a 502 that names
//! the host and the reason (counted in `ghost_tls_upstream_failures_total`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_log::SharedLog;
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog};
use ghost_model::ServiceName;
use ghost_proxy::{ProxyConfig, RunningProxy, ServiceConfig, UpstreamTls};
use ghost_schema::{CaptureRecord, ModeRecord};
use ghost_test_util::send;
use ghost_test_util::tls::{TestCa, TlsUpstream};
use ghost_topics as topics;
use http::{Method, StatusCode};
use std::time::Duration;

async fn start_proxy(
    upstream: String,
    tls: UpstreamTls,
) -> (RunningProxy, SharedLog, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let log: SharedLog = EmbeddedLog::open(EmbeddedConfig::new(dir.path()))
        .await
        .unwrap();
    let mut config = ProxyConfig::new("127.0.0.1:0".parse().unwrap());
    config.services.push(ServiceConfig {
        tenant: ghost_schema::DEFAULT_TENANT.to_owned(),
        name: ServiceName::default_service(),
        upstream: upstream.parse().unwrap(),
        host: None,
        path_prefix: None,
        preserve_host: false,
        tls,
    });
    (
        ghost_proxy::start(config, log.clone()).await.unwrap(),
        log,
        dir,
    )
}

fn url(p: &RunningProxy, path: &str) -> String {
    format!("http://{}{path}", p.local_addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_and_replays_an_https_upstream_over_h2() {
    let files = tempfile::tempdir().unwrap();
    let ca = TestCa::new("ghost test CA");
    let up = TlsUpstream::start(&ca.server(&["localhost", "127.0.0.1"]), None).await;
    let tls = UpstreamTls {
        ca_file: Some(ca.write(files.path(), "ca")),
        ..UpstreamTls::default()
    };
    let (proxy, log, _dir) = start_proxy(format!("https://localhost:{}", up.port()), tls).await;
    let live = send(Method::GET, &url(&proxy, "/secure/1?x=1"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(
        live.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&live.body)
    );
    assert_eq!(&live.body[..], b"tls ok /secure/1");
    // ALPN picked h2 with an upstream that offers it; the client spoke HTTP/1.1.
    assert_eq!(live.header("x-upstream-version"), Some("HTTP/2.0"));

    // The capture says which protocol each side spoke.
    proxy.state.catch_up().await;
    let mut protocols = Vec::new();
    for p in 0..topics::CAPTURES.spec().unwrap().partitions {
        for r in log
            .read(topics::CAPTURES.name(), p, 0, 10, None)
            .await
            .unwrap()
        {
            let c: CaptureRecord = ghost_schema::decode(r.value.as_ref().unwrap()).unwrap();
            protocols.push((c.http_version, c.upstream_http_version));
        }
    }
    assert_eq!(
        protocols,
        vec![("HTTP/1.1".to_owned(), "HTTP/2".to_owned())]
    );

    let offset = ghost_test_util::publish_mode(&*log, "mock-1", ModeRecord::Mock).await;
    proxy
        .state
        .wait_mode_applied(offset, None, Duration::from_secs(10))
        .await
        .unwrap();
    up.stop();
    let hits = up.hits();
    let mocked = send(Method::GET, &url(&proxy, "/secure/1?x=1"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(mocked.status, StatusCode::OK);
    assert_eq!(mocked.body, live.body);
    assert_eq!(mocked.header("x-ghost-mock"), Some("exact"));
    assert_eq!(up.hits(), hits);
    proxy.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_a_502_naming_host_and_reason() {
    let ca = TestCa::new("a CA nobody trusts");
    let up = TlsUpstream::start(&ca.server(&["localhost"]), None).await;
    let (proxy, _log, _dir) = start_proxy(
        format!("https://localhost:{}", up.port()),
        UpstreamTls::default(),
    )
    .await;
    let r = send(Method::GET, &url(&proxy, "/x"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    let j = r.json();
    assert_eq!(j["error"], "upstream_tls", "{j}");
    let detail = j["detail"].as_str().unwrap();
    assert!(
        detail.contains("localhost") && detail.contains("UnknownIssuer"),
        "{detail}"
    );
    assert_eq!(up.hits(), 0, "nothing reached the upstream");

    // A certificate for another name is refused too.
    let ca2 = TestCa::new("trusted CA");
    let files = tempfile::tempdir().unwrap();
    let wrong = TlsUpstream::start(&ca2.server(&["elsewhere.test"]), None).await;
    let tls = UpstreamTls {
        ca_file: Some(ca2.write(files.path(), "ca")),
        ..UpstreamTls::default()
    };
    let (proxy2, _log2, _dir2) =
        start_proxy(format!("https://localhost:{}", wrong.port()), tls).await;
    let r = send(Method::GET, &url(&proxy2, "/x"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    let detail = r.json()["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains("not valid for name \"localhost\""),
        "{detail}"
    );

    let metrics = send(Method::GET, &url(&proxy, "/_ghost/metrics"), &[], "", false)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&metrics.body).to_string();
    assert!(
        text.contains("ghost_tls_upstream_failures_total{service=\"default\"}"),
        "{text}"
    );
    proxy.shutdown(Duration::from_secs(5)).await;
    proxy2.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_sends_the_client_certificate_and_fails_clearly_without_it() {
    let files = tempfile::tempdir().unwrap();
    let ca = TestCa::new("mtls CA");
    let up = TlsUpstream::start(&ca.server(&["localhost"]), Some(&ca)).await;
    let ca_file = Some(ca.write(files.path(), "ca"));
    let (cert, key) = ca.client("ghost").write(files.path(), "client");
    let with = UpstreamTls {
        ca_file: ca_file.clone(),
        client_cert: Some(cert),
        client_key: Some(key),
        insecure_skip_verify: false,
    };
    let (proxy, _log, _dir) = start_proxy(format!("https://localhost:{}", up.port()), with).await;
    let r = send(Method::GET, &url(&proxy, "/m"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.header("x-client-cert"), Some("true"));

    // Without the certificate. TLS 1.3 lets the client finish its handshake
    // before the server refuses it, so the refusal is an alert on a later read
    // that the pool's connection task sees; ghost finds the reason again with
    // a fresh handshake.
    let without = UpstreamTls {
        ca_file,
        ..UpstreamTls::default()
    };
    let (proxy2, _log2, _dir2) =
        start_proxy(format!("https://localhost:{}", up.port()), without).await;
    let r = send(Method::GET, &url(&proxy2, "/m"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    let j = r.json();
    assert_eq!(j["error"], "upstream_tls", "{j}");
    assert!(
        j["detail"]
            .as_str()
            .unwrap()
            .contains("CertificateRequired"),
        "{j}"
    );
    proxy.shutdown(Duration::from_secs(5)).await;
    proxy2.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_skip_verify_accepts_any_certificate() {
    let ca = TestCa::new("unknown CA");
    let up = TlsUpstream::start(&ca.server(&["elsewhere.test"]), None).await;
    let tls = UpstreamTls {
        insecure_skip_verify: true,
        ..UpstreamTls::default()
    };
    let (proxy, _log, _dir) = start_proxy(format!("https://localhost:{}", up.port()), tls).await;
    assert!(proxy.state.routes().all()[0].insecure_skip_verify);
    let r = send(Method::GET, &url(&proxy, "/i"), &[], "", false)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK);
    proxy.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn unusable_tls_settings_are_refused_at_start_naming_the_file() {
    let files = tempfile::tempdir().unwrap();
    let missing = files.path().join("nope.pem");
    let not_pem = files.path().join("garbage.pem");
    std::fs::write(&not_pem, "this is not a certificate").unwrap();
    let only_cert = TestCa::new("x").client("c").write(files.path(), "c").0;
    for (tls, expect) in [
        (
            UpstreamTls {
                ca_file: Some(missing.clone()),
                ..UpstreamTls::default()
            },
            "nope.pem",
        ),
        (
            UpstreamTls {
                ca_file: Some(not_pem.clone()),
                ..UpstreamTls::default()
            },
            "holds no PEM certificate",
        ),
        (
            UpstreamTls {
                client_cert: Some(only_cert.clone()),
                ..UpstreamTls::default()
            },
            "together",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let log: SharedLog = EmbeddedLog::open(EmbeddedConfig::new(dir.path()))
            .await
            .unwrap();
        let mut config = ProxyConfig::new("127.0.0.1:0".parse().unwrap());
        config.services.push(ServiceConfig {
            tenant: ghost_schema::DEFAULT_TENANT.to_owned(),
            name: ServiceName::default_service(),
            upstream: "https://localhost:1".parse().unwrap(),
            host: None,
            path_prefix: None,
            preserve_host: false,
            tls,
        });
        let e = ghost_proxy::start(config, log)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains(expect) && e.contains("default"), "{e}");
    }
}
