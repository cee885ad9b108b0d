//! `hyper-forward LISTEN UPSTREAM [conn|pool]`: the floor for a forwarding proxy
//! built on hyper, as ghost is. HTTP/1.1 only, no routing, no recording, nothing
//! but hyper's server and client codecs around the bytes: `conn` (default) gives
//! every downstream connection its own upstream connection driven in the same
//! task (as ghost does), `pool` uses hyper-util's pooled client. Measured by
//! `loadtests/run.sh` next to ghost LEARN and `tcp-relay`, so the LEARN ratio
//! can be read against what forwarding alone costs on the same box. Prints
//! `listening on ADDR` once bound.

use anyhow::Context;
use hyper::Request;
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::net::{TcpListener, TcpStream};

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: hyper-forward LISTEN_ADDR UPSTREAM_ADDR [conn|pool]");
    };
    let pool = match args.next().as_deref() {
        None | Some("conn") => false,
        Some("pool") => true,
        Some(other) => anyhow::bail!("unknown mode `{other}`: use conn or pool"),
    };
    let listen: SocketAddr = listen
        .parse()
        .with_context(|| format!("`{listen}` is not an address like 127.0.0.1:0"))?;
    let upstream: SocketAddr = upstream
        .parse()
        .with_context(|| format!("`{upstream}` is not an address like 127.0.0.1:3000"))?;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot bind {listen}"))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", listener.local_addr()?)?;
        out.flush()?;
    }
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<HttpConnector, Incoming> =
        Client::builder(TokioExecutor::new()).build(connector);
    let base: Arc<str> = format!("http://{upstream}").into();
    loop {
        let (down, _) = listener.accept().await?;
        let _ = down.set_nodelay(true);
        if pool {
            tokio::spawn(serve_pooled(down, client.clone(), base.clone()));
        } else {
            tokio::spawn(serve_own(down, upstream));
        }
    }
}

async fn serve_pooled(down: TcpStream, client: Client<HttpConnector, Incoming>, base: Arc<str>) {
    let svc = service_fn(move |req: Request<Incoming>| {
        let (mut parts, body) = req.into_parts();
        let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        parts.uri = format!("{base}{pq}").parse().unwrap_or_default();
        client.request(Request::from_parts(parts, body))
    });
    // Errors are clients going away mid-request; nothing to do.
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(down), svc)
        .await;
}

async fn serve_own(down: TcpStream, upstream: SocketAddr) {
    let Ok(up) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = up.set_nodelay(true);
    let Ok((sender, conn)) = http1::handshake::<_, Incoming>(TokioIo::new(up)).await else {
        return;
    };
    let sender = Arc::new(Mutex::new(sender));
    let svc = service_fn(move |req: Request<Incoming>| {
        sender
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send_request(req)
    });
    let server =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(down), svc);
    // Either side closing ends both.
    tokio::select! {
        _ = server => {}
        _ = conn => {}
    }
}
