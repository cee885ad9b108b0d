//! `hyper-forward LISTEN UPSTREAM [conn|pool|threads]`: the floor for a forwarding
//! proxy built on hyper, as ghost is. HTTP/1.1 only, no routing, no recording,
//! nothing but hyper's server and client codecs around the bytes: `conn` (default)
//! gives every downstream connection its own upstream connection driven in the
//! same task, on tokio's work-stealing runtime; `threads` does the same on one
//! single-threaded runtime per core fed round-robin by one accept loop (ghost's
//! default request threads); `pool` uses hyper-util's pooled client. Measured by
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
        anyhow::bail!("usage: hyper-forward LISTEN_ADDR UPSTREAM_ADDR [conn|pool|threads]");
    };
    let (pool, threads) = match args.next().as_deref() {
        None | Some("conn") => (false, false),
        Some("pool") => (true, false),
        Some("threads") => (false, true),
        Some(other) => anyhow::bail!("unknown mode `{other}`: use conn, pool or threads"),
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
    if threads {
        return serve_on_threads(listener, upstream).await;
    }
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

/// One current-thread runtime per core, each serving the connections the
/// accept loop hands it (round-robin).
async fn serve_on_threads(listener: TcpListener, upstream: SocketAddr) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let mut queues = Vec::new();
    for i in 0..cores {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<std::net::TcpStream>(256);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name(format!("forward-{i}"))
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some(down) = rx.recv().await {
                        if let Ok(down) = TcpStream::from_std(down) {
                            tokio::spawn(serve_own(down, upstream));
                        }
                    }
                });
            })?;
        queues.push(tx);
    }
    for next in (0..cores).cycle() {
        let (down, _) = listener.accept().await?;
        let _ = down.set_nodelay(true);
        let down = down.into_std()?;
        if queues[next].send(down).await.is_err() {
            anyhow::bail!("forwarding thread {next} stopped");
        }
    }
    Ok(())
}
