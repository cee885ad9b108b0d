//! TLS interception: ghost terminates the TLS of CONNECT tunnels (and of
//! clients that reach its TLS listener by name) with a leaf certificate minted
//! from its own CA, and handles the requests inside exactly like plain ones:
//! LEARN forwards them to the real origin over TLS and records them, MOCK
//! replays them with no network.

pub mod ca;

pub use ca::{CaError, CaSource, CertAuthority};

use crate::guard::{ConnGuard, Guarded};
use crate::request::{self, RequestCtx};
use crate::upstream::{Link, with_upstreams};
use crate::upstream_tls::provider;
use http::uri::{Authority, Scheme};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// `--tls-intercept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterceptMode {
    /// CONNECT tunnels pass through blind; no CA, no TLS listener.
    Off,
    /// Intercept; a CA or TLS listener failure is logged and plain HTTP keeps serving.
    Lax,
    /// Intercept; a CA or TLS listener failure stops ghost from starting.
    Strict,
}

/// How interception is set up.
#[derive(Debug, Clone)]
pub struct InterceptConfig {
    pub mode: InterceptMode,
    pub ca: CaSource,
    /// The TLS listener for clients that reach ghost directly by name (SNI
    /// picks the service); `None`: no listener.
    pub tls_listen: Option<SocketAddr>,
}

impl InterceptConfig {
    pub fn off() -> Self {
        Self {
            mode: InterceptMode::Off,
            ca: CaSource::Dir("tls".into()),
            tls_listen: None,
        }
    }
}

/// Request extension: the origin a request inside an intercepted tunnel (or on
/// the TLS listener) was meant for.
#[derive(Debug, Clone)]
pub(crate) struct TunnelOrigin {
    pub scheme: Scheme,
    pub authority: Authority,
}

/// Picks the leaf by SNI, else by the CONNECT target (IP-literal hosts send no SNI).
#[derive(Debug)]
struct Minting {
    ca: Arc<CertAuthority>,
    fallback: Option<String>,
}

impl ResolvesServerCert for Minting {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let host = hello
            .server_name()
            .map(str::to_owned)
            .or_else(|| self.fallback.clone())?;
        match self.ca.leaf(&host) {
            Ok(leaf) => Some(leaf),
            Err(error) => {
                tracing::warn!(%error, "no certificate for an intercepted connection");
                None
            }
        }
    }
}

/// The configuration every SNI-naming client shares (built once).
pub(crate) fn shared_config(ca: Arc<CertAuthority>) -> Result<Arc<ServerConfig>, rustls::Error> {
    server_config(ca, None)
}

fn server_config(
    ca: Arc<CertAuthority>,
    fallback: Option<String>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Minting { ca, fallback }));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Terminates TLS on `io` for `origin` and serves the requests inside.
///
/// Boxed: the requests inside go through `service::handle`, which may answer a
/// CONNECT by spawning this again; a named future type breaks that cycle.
pub(crate) fn serve<I>(
    ctx: Arc<RequestCtx>,
    io: I,
    ca: Arc<CertAuthority>,
    origin: Option<TunnelOrigin>,
) -> Pin<Box<dyn Future<Output = ()> + Send>>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    Box::pin(serve_inner(ctx, io, ca, origin))
}

async fn serve_inner<I>(
    ctx: Arc<RequestCtx>,
    io: I,
    ca: Arc<CertAuthority>,
    origin: Option<TunnelOrigin>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // Read the ClientHello first: with SNI (the common case) the one shared
    // configuration picks the leaf by name; without it (an IP-literal target)
    // a configuration for this tunnel's host is built.
    let start = match tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), io)
        .await
    {
        Ok(start) => start,
        Err(error) => {
            ctx.state.metrics.tls_client_handshake_failure();
            tracing::debug!(%error, "TLS handshake with a client failed");
            return;
        }
    };
    let shared = ctx.state.tls_shared.clone();
    let config = match shared {
        Some(c) if start.client_hello().server_name().is_some() => Ok(c),
        _ => server_config(ca, origin.as_ref().map(|o| o.authority.host().to_owned())),
    };
    let config = match config {
        Ok(c) => c,
        Err(error) => {
            tracing::error!(%error, "no TLS configuration for interception");
            return;
        }
    };
    let tls = match start.into_stream(config).await {
        Ok(tls) => tls,
        Err(error) => {
            ctx.state.metrics.tls_client_handshake_failure();
            tracing::debug!(%error, "TLS handshake with a client failed");
            return;
        }
    };
    // On the TLS listener the client names the origin by SNI.
    let origin = match origin {
        Some(o) => o,
        None => {
            let Some(authority) = tls
                .get_ref()
                .1
                .server_name()
                .and_then(|n| n.parse::<Authority>().ok())
            else {
                tracing::debug!("TLS client without SNI on the TLS listener; closed");
                return;
            };
            TunnelOrigin {
                scheme: Scheme::HTTPS,
                authority,
            }
        }
    };
    let link = Link::new();
    let guard = Arc::new(ConnGuard::default());
    let svc = {
        let (link, guard) = (link.clone(), guard.clone());
        service_fn(move |mut req| {
            req.extensions_mut().insert(origin.clone());
            request::handle(ctx.clone(), link.clone(), guard.clone(), req)
        })
    };
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(Guarded::new(tls, guard)), svc);
    if let Err(error) = with_upstreams(link, conn).await {
        tracing::debug!(%error, "intercepted connection ended with an error");
    }
}
