//! `tls-handshakes ADDR SECONDS CA_PEM SNI [--unique]`: TLS handshakes per
//! second against a server, from C concurrent tasks (env `C`, default 16),
//! each connecting, completing a handshake (rustls, verifying against CA_PEM),
//! and closing. With `--unique`, every handshake names a different host under
//! SNI (`hN.SNI`): against ghost's TLS listener that is a leaf minted per
//! handshake (a cold cache); without it, one name (a warm cache). Prints
//! `handshakes N seconds S per_second R failed F`.

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, seconds, ca, sni, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: tls-handshakes ADDR SECONDS CA_PEM SNI [--unique]");
    };
    let unique = rest.iter().any(|a| a == "--unique");
    let seconds: u64 = seconds.parse().context("SECONDS")?;
    let tasks: usize = std::env::var("C")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(16);
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).with_context(|| format!("cannot read {ca}"))? {
        roots.add(cert?)?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let (done, failed, next) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (connector, done, failed, next) = (
            connector.clone(),
            done.clone(),
            failed.clone(),
            next.clone(),
        );
        let (addr, sni) = (addr.clone(), sni.clone());
        handles.push(tokio::spawn(async move {
            while Instant::now() < until {
                let name = if unique {
                    format!("h{}.{sni}", next.fetch_add(1, Ordering::Relaxed))
                } else {
                    sni.clone()
                };
                let ok = async {
                    let tcp = tokio::net::TcpStream::connect(&addr).await.ok()?;
                    let name = ServerName::try_from(name).ok()?;
                    connector.connect(name, tcp).await.ok()
                }
                .await;
                match ok {
                    Some(_) => done.fetch_add(1, Ordering::Relaxed),
                    None => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for h in handles {
        h.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "handshakes {n} seconds {secs:.2} per_second {:.0} failed {}",
        n as f64 / secs,
        failed.load(Ordering::Relaxed)
    );
    Ok(())
}
