//! TLS to `https://` upstreams: one rustls client configuration per service
//! (trust roots, optional client certificate), used through a pooled hyper
//! client whose connector negotiates h2 or HTTP/1.1 by ALPN.
//!
//! Trust: the platform's roots (rustls-native-certs, which honours
//! `SSL_CERT_FILE` and `SSL_CERT_DIR`), webpki's roots, and a service's own
//! `ca_file`. Verification is always on unless a service sets
//! `insecure_skip_verify`, which ghost announces loudly.

use crate::config::UpstreamTls;
use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The pooled client of one `https://` service, with its TLS configuration
/// (kept to diagnose failures the pool reports without a reason).
#[derive(Debug, Clone)]
pub(crate) struct HttpsClient {
    pub pool: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    config: Arc<ClientConfig>,
}

/// Why a service's TLS settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: String,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("{what} {path} holds no PEM {expected}")]
    Empty {
        what: &'static str,
        path: String,
        expected: &'static str,
    },
    #[error("ca_file {path}: certificate {index} is not a usable trust anchor: {source}")]
    Anchor {
        path: String,
        index: usize,
        #[source]
        source: rustls::Error,
    },
    #[error("client_cert and client_key must be given together")]
    HalfClientAuth,
    #[error("the client certificate and key do not work together: {0}")]
    ClientAuth(#[source] rustls::Error),
    #[error("no TLS protocol versions available: {0}")]
    Versions(#[source] rustls::Error),
}

/// The crypto provider every TLS configuration in ghost uses (ring).
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The platform's and webpki's roots, loaded once per process.
fn base_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let native = rustls_native_certs::load_native_certs();
        for error in &native.errors {
            tracing::warn!(%error, "some platform trust roots could not be loaded");
        }
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        tracing::debug!(added, ignored, "platform trust roots loaded");
        roots
    })
}

fn read_certs(
    what: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let shown = path.display().to_string();
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsConfigError::Read {
            what,
            path: shown.clone(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsConfigError::Empty {
            what,
            path: shown,
            expected: "certificate",
        });
    }
    Ok(certs)
}

/// Builds the rustls client configuration of one service.
pub fn client_config(tls: &UpstreamTls) -> Result<ClientConfig, TlsConfigError> {
    let mut roots = base_roots().clone();
    if let Some(path) = &tls.ca_file {
        for (index, cert) in read_certs("ca_file", path)?.into_iter().enumerate() {
            roots.add(cert).map_err(|source| TlsConfigError::Anchor {
                path: path.display().to_string(),
                index,
                source,
            })?;
        }
    }
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsConfigError::Versions)?;
    let builder = if tls.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider())))
    } else {
        builder.with_root_certificates(roots)
    };
    match (&tls.client_cert, &tls.client_key) {
        (None, None) => Ok(builder.with_no_client_auth()),
        (Some(cert), Some(key)) => {
            let chain = read_certs("client_cert", cert)?;
            let shown = key.display().to_string();
            let key = PrivateKeyDer::from_pem_file(key).map_err(|source| match source {
                rustls::pki_types::pem::Error::NoItemsFound => TlsConfigError::Empty {
                    what: "client_key",
                    path: shown.clone(),
                    expected: "private key",
                },
                source => TlsConfigError::Read {
                    what: "client_key",
                    path: shown.clone(),
                    source,
                },
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(TlsConfigError::ClientAuth)
        }
        _ => Err(TlsConfigError::HalfClientAuth),
    }
}

/// A pooled client over `config`, offering h2 and HTTP/1.1 by ALPN. Header
/// names keep their case on HTTP/1.1 upstreams, as on plain ones.
pub(crate) fn https_client(config: ClientConfig) -> HttpsClient {
    let diagnose = Arc::new(config.clone());
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.enforce_http(false);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only()
        .enable_all_versions()
        .wrap_connector(http);
    HttpsClient {
        pool: Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .http1_preserve_header_case(true)
            .build(connector),
        config: diagnose,
    }
}

impl HttpsClient {
    /// Why TLS with `authority` fails, found by a fresh handshake and one read.
    ///
    /// Called only after a request failed without a TLS reason. With TLS 1.3 a
    /// server refuses a client certificate (or its absence) after the client's
    /// side of the handshake is done, as an alert on the next read; the pool's
    /// connection task reads it and the request only learns that the
    /// connection closed. `None`: the handshake and the read raised no TLS error.
    pub(crate) async fn diagnose(&self, authority: &http::uri::Authority) -> Option<String> {
        use tokio::io::AsyncReadExt;
        let host = crate::routing::bare_host(authority.host());
        let name = ServerName::try_from(host.to_owned()).ok()?;
        let port = authority.port_u16().unwrap_or(443);
        let probe = async {
            let tcp = tokio::net::TcpStream::connect((host, port)).await.ok()?;
            let connector = tokio_rustls::TlsConnector::from(self.config.clone());
            let mut tls = match connector.connect(name, tcp).await {
                Ok(tls) => tls,
                Err(e) => return tls_failure(&e),
            };
            let mut byte = [0u8; 1];
            match tls.read(&mut byte).await {
                Err(e) => tls_failure(&e),
                Ok(_) => None,
            }
        };
        tokio::time::timeout(Duration::from_secs(2), probe)
            .await
            .ok()
            .flatten()
    }
}

/// The reason a request to an `https://` upstream failed at the TLS layer, if
/// it did: the rustls error somewhere in the error's source chain.
pub(crate) fn tls_failure(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = Some(error);
    while let Some(e) = cur {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls.to_string());
        }
        // rustls errors reach hyper wrapped in (nested) io::Errors, whose
        // `source` skips the wrapped error itself: step into it instead.
        cur = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// `insecure_skip_verify`: accepts any certificate, but still checks that the
/// handshake was signed by the key of the certificate presented.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
