//! Upstream connections of HTTP/1 downstream connections: one per downstream
//! connection, reused across its requests, replaced when the upstream closes it
//! (announced or not), and never shared between downstream connections; HTTP/2
//! downstream connections still multiplex over the shared pool.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use bytes::Bytes;
use ghost_log::SharedLog;
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog};
use ghost_model::ServiceName;
use ghost_proxy::{ProxyConfig, RunningProxy, ServiceConfig};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the raw upstream treats a connection after answering a request.
#[derive(Clone, Copy)]
enum After {
    /// Keep it open for the next request.
    KeepAlive,
    /// Say `Connection: close` and close it.
    Announce,
    /// Answer as keep-alive, then close it silently (an idle timeout).
    Vanish,
}

/// An HTTP/1.1 upstream written against the socket, so the test controls exactly
/// when connections close; counts the connections it accepts.
struct RawUpstream {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl RawUpstream {
    async fn start(after: After) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::spawn(serve(stream, n, after));
            }
        });
        Self { addr, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Answers each request with `conn=N` (N: the connection's number).
async fn serve(mut stream: TcpStream, n: usize, after: After) {
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(k) => buf.extend_from_slice(&chunk[..k]),
            }
        }
        buf.clear();
        let body = format!("conn={n}");
        let connection = match after {
            After::Announce => "close",
            _ => "keep-alive",
        };
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: {connection}\r\n\r\n",
            body.len()
        );
        if stream
            .write_all(format!("{head}{body}").as_bytes())
            .await
            .is_err()
        {
            return;
        }
        match after {
            After::KeepAlive => {}
            After::Announce => return,
            After::Vanish => {
                // Long enough for the proxy to have gone idle on it.
                let _ = stream.shutdown().await;
                return;
            }
        }
    }
}

async fn proxy_to(up: &RawUpstream) -> (RunningProxy, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let log: SharedLog = EmbeddedLog::open(EmbeddedConfig::new(dir.path()))
        .await
        .unwrap();
    let mut config = ProxyConfig::new("127.0.0.1:0".parse().unwrap());
    config.services.push(ServiceConfig {
        tenant: ghost_schema::DEFAULT_TENANT.to_owned(),
        preserve_host: false,
        tls: Default::default(),
        name: ServiceName::default_service(),
        upstream: format!("http://{}", up.addr).parse().unwrap(),
        host: None,
        path_prefix: None,
    });
    (ghost_proxy::start(config, log).await.unwrap(), dir)
}

/// One downstream HTTP/1.1 keep-alive connection to the proxy.
async fn h1(proxy: &RunningProxy) -> http1::SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(proxy.local_addr).await.unwrap();
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    sender
}

async fn get(sender: &mut http1::SendRequest<Full<Bytes>>, path: &str) -> (StatusCode, String) {
    sender.ready().await.unwrap();
    let req = Request::get(path)
        .header("host", "svc.test")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_downstream_connection_keeps_its_own_upstream_connection() {
    let up = RawUpstream::start(After::KeepAlive).await;
    let (proxy, _dir) = proxy_to(&up).await;
    let mut a = h1(&proxy).await;
    let mut b = h1(&proxy).await;
    let mut seen_a = Vec::new();
    let mut seen_b = Vec::new();
    for i in 0..5 {
        let (s, body) = get(&mut a, &format!("/a/{i}")).await;
        assert_eq!(s, StatusCode::OK);
        seen_a.push(body);
        let (s, body) = get(&mut b, &format!("/b/{i}")).await;
        assert_eq!(s, StatusCode::OK);
        seen_b.push(body);
    }
    seen_a.dedup();
    seen_b.dedup();
    assert_eq!(seen_a.len(), 1, "one upstream connection for a: {seen_a:?}");
    assert_eq!(seen_b.len(), 1, "one upstream connection for b: {seen_b:?}");
    assert_ne!(seen_a, seen_b, "downstream connections never share one");
    assert_eq!(up.accepted(), 2);
    proxy.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_connections_closed_by_the_upstream_are_replaced() {
    for after in [After::Announce, After::Vanish] {
        let up = RawUpstream::start(after).await;
        let (proxy, _dir) = proxy_to(&up).await;
        let mut a = h1(&proxy).await;
        for i in 1..=4 {
            let (s, body) = get(&mut a, &format!("/x/{i}")).await;
            assert_eq!(s, StatusCode::OK, "request {i}: {body}");
            assert_eq!(
                body,
                format!("conn={i}"),
                "a new upstream connection each time"
            );
            if matches!(after, After::Vanish) {
                // Let the silent close reach the proxy's idle connection first,
                // then again race it: both must be answered.
                if i % 2 == 1 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        proxy.shutdown(Duration::from_secs(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_streams_on_one_connection_share_the_pool() {
    let up = RawUpstream::start(After::KeepAlive).await;
    let (proxy, _dir) = proxy_to(&up).await;
    let stream = TcpStream::connect(proxy.local_addr).await.unwrap();
    let (sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let mut sender = sender.clone();
        tasks.push(tokio::spawn(async move {
            let req = Request::get(format!("http://svc.test/h2/{i}"))
                .body(Full::new(Bytes::new()))
                .unwrap();
            let resp = sender.send_request(req).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            resp.into_body().collect().await.unwrap().to_bytes()
        }));
    }
    for t in tasks {
        let body = t.await.unwrap();
        assert!(body.starts_with(b"conn="), "{body:?}");
    }
    proxy.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_upstream_is_a_502_naming_it() {
    // A port nothing listens on: bind, note it, close.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let up = RawUpstream {
        addr,
        accepted: Arc::default(),
    };
    let (proxy, _dir) = proxy_to(&up).await;
    let mut a = h1(&proxy).await;
    let (s, body) = get(&mut a, "/nowhere").await;
    assert_eq!(s, StatusCode::BAD_GATEWAY);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"], "upstream_unavailable");
    let detail = v["detail"].as_str().unwrap();
    assert!(detail.contains(&addr.to_string()), "{detail}");
    // The downstream connection stays usable.
    let (s, _) = get(&mut a, "/nowhere").await;
    assert_eq!(s, StatusCode::BAD_GATEWAY);
    proxy.shutdown(Duration::from_secs(5)).await;
}
