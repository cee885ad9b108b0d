//! `bare-server [ADDR|PORT] [--tls CERT KEY]`: the baseline ghost is judged
//! against, and the upstream it records from. A bare hyper 1 server (hyper-util
//! auto builder, HTTP/1.1 keep-alive, TCP_NODELAY, multi-thread runtime)
//! answering every request with a fixed 300-byte JSON body; for `/users/{id}`
//! the body carries that id. With `--tls`, it serves HTTPS (rustls with ring,
//! ALPN h2 and http/1.1) with the PEM certificate chain and key given: the
//! baseline for ghost over TLS. Prints `listening on ADDR` once bound (default
//! 127.0.0.1:0).

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

fn tls_acceptor(cert: &str, key: &str) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read {cert}"))?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("cannot read {key}"))?;
    let mut config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (tls, rest): (Option<tokio_rustls::TlsAcceptor>, Vec<String>) =
        match args.iter().position(|a| a == "--tls") {
            Some(i) => {
                let (Some(cert), Some(key)) = (args.get(i + 1), args.get(i + 2)) else {
                    anyhow::bail!("--tls needs CERT and KEY");
                };
                let mut rest = args.clone();
                rest.drain(i..i + 3);
                (Some(tls_acceptor(cert, key)?), rest)
            }
            None => (None, args),
        };
    let addr = parse_addr(rest.into_iter().next())?;
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
        let tls = tls.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<Incoming>| {
                let resp = respond(&req, &default);
                async move { Ok::<_, Infallible>(resp) }
            });
            // Errors here are clients going away mid-request; nothing to do.
            let builder = auto::Builder::new(TokioExecutor::new());
            match tls {
                None => {
                    let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                }
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                    }
                }
            }
        });
    }
}
