//! `bare-server [ADDR|PORT]`: the baseline ghost is judged against, and the upstream
//! it records from. A bare hyper 1 server (hyper-util auto builder, HTTP/1.1
//! keep-alive, TCP_NODELAY, multi-thread runtime) answering every request with a
//! fixed 300-byte JSON body; for `/users/{id}` the body carries that id. Prints
//! `listening on ADDR` once bound (default 127.0.0.1:0).

use anyhow::Context;
use bytes::Bytes;
use ghost_loadtests::{DEFAULT_ID, user_body, user_id};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;

fn parse_addr(arg: Option<String>) -> anyhow::Result<SocketAddr> {
    let Some(arg) = arg else {
        return Ok(([127, 0, 0, 1], 0).into());
    };
    if let Ok(port) = arg.parse::<u16>() {
        return Ok(([127, 0, 0, 1], port).into());
    }
    arg.parse()
        .with_context(|| format!("`{arg}` is neither a port nor an address like 127.0.0.1:3000"))
}

fn respond(req: &Request<Incoming>, default: &Bytes) -> Response<Full<Bytes>> {
    let body = match user_id(req.uri().path()) {
        Some(id) if id != DEFAULT_ID => user_body(id),
        _ => default.clone(),
    };
    let mut resp = Response::new(Full::new(body));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let addr = parse_addr(std::env::args().nth(1))?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot bind {addr}"))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", listener.local_addr()?)?;
        out.flush()?;
    }
    let default = user_body(DEFAULT_ID);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                eprintln!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let default = default.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<Incoming>| {
                let resp = respond(&req, &default);
                async move { Ok::<_, Infallible>(resp) }
            });
            // Errors here are clients going away mid-request; nothing to do.
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
