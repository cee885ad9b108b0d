//! A real HTTP upstream on 127.0.0.1:0 with the response shapes ghost must replay:
//! JSON, binary, gzip, chunked, 204, HEAD, redirects, 4xx/5xx, large bodies,
//! echo, a counter (for ordered replay), and credential headers (for redaction).

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use tokio::task::JoinSet;

/// A body sent in several frames without a length (chunked on HTTP/1.1).
pub struct Chunks(VecDeque<Bytes>);

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
    }
    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }
    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

fn full(b: impl Into<Bytes>) -> Chunks {
    let b = b.into();
    Chunks(if b.is_empty() {
        VecDeque::new()
    } else {
        VecDeque::from([b])
    })
}

/// A running upstream.
pub struct Upstream {
    pub addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    tasks: JoinSet<()>,
}

/// The 1 MiB body `/large` returns.
pub fn large_body() -> Vec<u8> {
    (0..1024 * 1024).map(|i| (i * 7 % 251) as u8).collect()
}

impl Upstream {
    /// Starts the upstream; `canary` goes into the credential headers of `/secret`.
    pub async fn start(canary: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::new(AtomicUsize::new(0));
        let canary = Arc::<str>::from(canary);
        let mut tasks = JoinSet::new();
        let h = hits.clone();
        tasks.spawn(async move {
            let mut conns = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (h, counter, canary) = (h.clone(), counter.clone(), canary.clone());
                conns.spawn(async move {
                    let svc = service_fn(move |req| {
                        h.fetch_add(1, Ordering::SeqCst);
                        let (counter, canary) = (counter.clone(), canary.clone());
                        async move { Ok::<_, Infallible>(route(req, &counter, &canary).await) }
                    });
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self { addr, hits, tasks }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests served so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Stops listening and drops every open connection.
    pub fn stop(&mut self) {
        self.tasks.abort_all();
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

async fn route(req: Request<Incoming>, counter: &AtomicUsize, canary: &str) -> Response<Chunks> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut b = Response::builder();
    match (method.clone(), segs.as_slice()) {
        (Method::GET | Method::HEAD, ["users", id]) => {
            let body = format!(
                "{{\n  \"id\": {id},\n  \"name\": \"User {id}\",\n  \"links\": {{\"self\": \"/users/{id}\"}},\n  \"q\": \"{query}\"\n}}\n"
            );
            b = b.header("content-type", "application/json").header("content-length", body.len());
            let body = if method == Method::HEAD { Bytes::new() } else { Bytes::from(body) };
            b.body(full(body))
        }
        (Method::GET, ["binary"]) => b
            .header("content-type", "application/octet-stream")
            .body(full((0..=255u8).cycle().take(4096).collect::<Vec<u8>>())),
        (Method::GET, ["gzip"]) => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(&b"compressed hello ".repeat(200)).unwrap();
            b.header("content-type", "text/plain")
                .header("content-encoding", "gzip")
                .header("vary", "accept-encoding")
                .body(full(enc.finish().unwrap()))
        }
        (Method::GET, ["chunked"]) => b.header("content-type", "text/plain").body(Chunks(VecDeque::from([
            Bytes::from_static(b"first chunk;"),
            Bytes::from_static(b"second chunk;"),
            Bytes::from_static(b"third chunk"),
        ]))),
        (Method::DELETE, ["items", _]) => b.status(StatusCode::NO_CONTENT).body(full(Bytes::new())),
        (Method::GET, ["etag"]) => b
            .status(StatusCode::NOT_MODIFIED)
            .header("etag", "\"v1\"")
            .header("cache-control", "max-age=60")
            .body(full(Bytes::new())),
        (Method::GET, ["redirect"]) => b
            .status(StatusCode::FOUND)
            .header("location", "/users/1")
            .body(full(Bytes::new())),
        (Method::GET, ["missing"]) => b
            .status(StatusCode::NOT_FOUND)
            .header("content-type", "application/json")
            .body(full(r#"{"error":"not here"}"#)),
        (Method::GET, ["boom"]) => b
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .header("content-type", "text/plain")
            .header("x-error-id", "e-123")
            .body(full("upstream exploded")),
        (Method::GET, ["large"]) => b.header("content-type", "application/octet-stream").body(full(large_body())),
        (Method::GET, ["counter"]) => {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            b.header("content-type", "application/json").body(full(format!("{{\"n\":{n}}}")))
        }
        (Method::GET, ["secret"]) => {
            for (name, value) in crate::canary_headers(canary) {
                b = b.header(name, value);
            }
            b.header("content-type", "text/plain").body(full("ok"))
        }
        (_, ["echo"]) => {
            let ct = req.headers().get("content-type").cloned();
            let body = req.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
            let mut b = b.header("x-echo-method", method.as_str());
            if let Some(ct) = ct {
                b = b.header("content-type", ct);
            }
            b.body(full(body))
        }
        _ => b.status(StatusCode::NOT_FOUND).body(full("no route")),
    }
    .unwrap()
}
