//! `tcp-relay LISTEN UPSTREAM`: the floor for any user-space forwarding proxy on
//! this box. Every accepted connection gets its own upstream connection and bytes
//! are copied both ways without parsing HTTP or recording anything, on a
//! multi-thread runtime like ghost's. `loadtests/run.sh` measures it next to ghost
//! LEARN so the LEARN ratio can be read against what two reads and two writes per
//! request cost here at best. Prints `listening on ADDR` once bound.

use anyhow::Context;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: tcp-relay LISTEN_ADDR UPSTREAM_ADDR");
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
    loop {
        let mut down = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                eprintln!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        tokio::spawn(async move {
            let _ = down.set_nodelay(true);
            let Ok(mut up) = TcpStream::connect(upstream).await else {
                return;
            };
            let _ = up.set_nodelay(true);
            // Errors are either side going away; the other side is closed with it.
            let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
        });
    }
}
