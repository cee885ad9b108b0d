//! ghost's interception CA: generated at first start under the data directory
//! (the key readable by its owner only, never written to the log) or supplied
//! by the operator, and the short-lived leaf certificates it mints per host,
//! each with its own key (never the CA's), cached with a bound.

use crate::upstream_tls::provider;
use moka::sync::Cache;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// How long a minted leaf is valid (clients see a fresh one after a restart anyway).
const LEAF_VALIDITY: time::Duration = time::Duration::days(7);
/// How long a leaf stays cached, well inside its validity.
const LEAF_CACHE_TTL: Duration = Duration::from_secs(24 * 3600);
/// Most leaves cached at once.
const LEAF_CACHE_CAPACITY: u64 = 10_000;

pub const CA_CERT_FILE: &str = "ghost-ca.crt";
pub const CA_KEY_FILE: &str = "ghost-ca.key";

/// Why the CA cannot be loaded, created or used.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a usable {what}: {source}")]
    Parse {
        path: String,
        what: &'static str,
        #[source]
        source: rcgen::Error,
    },
    #[error("--ca-cert and --ca-key must be given together")]
    Half,
    #[error("cannot mint a certificate for `{host}`: {reason}")]
    Mint { host: String, reason: String },
}

/// Where the CA comes from.
#[derive(Debug, Clone)]
pub enum CaSource {
    /// `DIR/ghost-ca.crt` and `DIR/ghost-ca.key`, generated when missing.
    Dir(PathBuf),
    /// Operator-supplied PEM files.
    Files { cert: PathBuf, key: PathBuf },
}

impl CaSource {
    /// The CA certificate's file: what clients are told to trust.
    pub fn cert_path(&self) -> PathBuf {
        match self {
            Self::Dir(dir) => dir.join(CA_CERT_FILE),
            Self::Files { cert, .. } => cert.clone(),
        }
    }
}

/// The CA and its leaf cache.
pub struct CertAuthority {
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    leaves: Cache<String, Arc<CertifiedKey>>,
}

impl std::fmt::Debug for CertAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertAuthority").finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<String, CaError> {
    std::fs::read_to_string(path).map_err(|source| CaError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Writes `contents` to `path`, readable by its owner only when `private`.
fn write(path: &Path, contents: &str, private: bool) -> Result<(), CaError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| CaError::Write {
        path: path.display().to_string(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(if private { 0o600 } else { 0o644 });
    let mut f = opts.open(&tmp).map_err(err)?;
    f.write_all(contents.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

impl CertAuthority {
    /// Loads the CA, generating it first when `source` is a directory without one.
    pub fn load(source: &CaSource) -> Result<Self, CaError> {
        let (cert_path, key_path) = match source {
            CaSource::Files { cert, key } => (cert.clone(), key.clone()),
            CaSource::Dir(dir) => {
                let (c, k) = (source.cert_path(), dir.join(CA_KEY_FILE));
                if !c.exists() && !k.exists() {
                    std::fs::create_dir_all(dir).map_err(|source| CaError::Write {
                        path: dir.display().to_string(),
                        source,
                    })?;
                    let (cert, key) = generate().map_err(|e| CaError::Mint {
                        host: "the CA".into(),
                        reason: e.to_string(),
                    })?;
                    write(&k, &key, true)?;
                    write(&c, &cert, false)?;
                    tracing::info!(cert = %c.display(), "generated ghost's interception CA");
                }
                (c, k)
            }
        };
        let cert_pem = read(&cert_path)?;
        let key_pem = read(&key_path)?;
        let parse = |path: &Path, what| {
            let path = path.display().to_string();
            move |source| CaError::Parse { path, what, source }
        };
        let key = KeyPair::from_pem(&key_pem).map_err(parse(&key_path, "private key"))?;
        let issuer = Issuer::from_ca_cert_pem(&cert_pem, key)
            .map_err(parse(&cert_path, "CA certificate"))?;
        let cert_der = rustls::pki_types::pem::PemObject::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| CaError::Parse {
                path: cert_path.display().to_string(),
                what: "CA certificate",
                source: rcgen::Error::PemError(e.to_string()),
            })?;
        Ok(Self {
            cert_pem,
            cert_der,
            issuer,
            leaves: Cache::builder()
                .max_capacity(LEAF_CACHE_CAPACITY)
                .time_to_live(LEAF_CACHE_TTL)
                .eviction_listener(|_, _, _| {
                    metrics::counter!(crate::metrics::TLS_LEAF_CACHE_TOTAL, "result" => "evicted")
                        .increment(1)
                })
                .build(),
        })
    }

    /// The CA certificate (PEM), for clients to trust.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A leaf for `host` (a DNS name or an IP literal), chained to the CA.
    pub fn leaf(&self, host: &str) -> Result<Arc<CertifiedKey>, CaError> {
        let host = crate::routing::bare_host(host).to_ascii_lowercase();
        if let Some(hit) = self.leaves.get(&host) {
            metrics::counter!(crate::metrics::TLS_LEAF_CACHE_TOTAL, "result" => "hit").increment(1);
            return Ok(hit);
        }
        metrics::counter!(crate::metrics::TLS_LEAF_CACHE_TOTAL, "result" => "miss").increment(1);
        let minted = Arc::new(self.mint(&host)?);
        self.leaves.insert(host, minted.clone());
        Ok(minted)
    }

    fn mint(&self, host: &str) -> Result<CertifiedKey, CaError> {
        let fail = |reason: String| CaError::Mint {
            host: host.to_owned(),
            reason,
        };
        let key = KeyPair::generate().map_err(|e| fail(e.to_string()))?;
        let mut params =
            CertificateParams::new(Vec::<String>::new()).map_err(|e| fail(e.to_string()))?;
        let san = match host.parse() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(
                host.to_owned()
                    .try_into()
                    .map_err(|e: rcgen::Error| fail(e.to_string()))?,
            ),
        };
        params.subject_alt_names = vec![san];
        params.distinguished_name.push(DnType::CommonName, host);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + LEAF_VALIDITY;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| fail(e.to_string()))?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signing = provider()
            .key_provider
            .load_private_key(der)
            .map_err(|e| fail(e.to_string()))?;
        Ok(CertifiedKey::new(
            vec![cert.der().clone(), self.cert_der.clone()],
            signing,
        ))
    }
}

/// A new CA: (certificate PEM, key PEM).
fn generate() -> Result<(String, String), rcgen::Error> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params
        .distinguished_name
        .push(DnType::CommonName, "ghost interception CA");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "ghost (local, generated)");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{ServerName, UnixTime};

    fn verify(ca: &CertAuthority, host: &str) -> Result<(), rustls::Error> {
        let leaf = ca.leaf(host).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.cert_der.clone()).unwrap();
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .unwrap();
        let name = ServerName::try_from(host.to_owned()).unwrap();
        verifier
            .verify_server_cert(&leaf.cert[0], &leaf.cert[1..], &name, &[], UnixTime::now())
            .map(|_| ())
    }

    #[test]
    fn minted_leaves_verify_for_their_host_and_chain_to_the_ca() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CertAuthority::load(&CaSource::Dir(dir.path().to_path_buf())).unwrap();
        for host in ["api.example.com", "127.0.0.1", "::1", "localhost"] {
            verify(&ca, host).unwrap_or_else(|e| panic!("{host}: {e}"));
        }
        // A leaf is for its host only.
        let leaf = ca.leaf("api.example.com").unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.cert_der.clone()).unwrap();
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .unwrap();
        let other = ServerName::try_from("evil.example.com").unwrap();
        assert!(
            verifier
                .verify_server_cert(&leaf.cert[0], &leaf.cert[1..], &other, &[], UnixTime::now())
                .is_err()
        );
        // Each leaf has its own key, never the CA's.
        let (a, b) = (ca.leaf("a.test").unwrap(), ca.leaf("b.test").unwrap());
        assert_ne!(a.cert[0], ca.cert_der);
        let spki = |c: &CertificateDer<'_>| {
            x509_parser::parse_x509_certificate(c)
                .unwrap()
                .1
                .public_key()
                .raw
                .to_vec()
        };
        assert_ne!(spki(&a.cert[0]), spki(&b.cert[0]));
        assert_ne!(spki(&a.cert[0]), spki(&ca.cert_der));
        // The cache answers the same leaf again.
        assert!(Arc::ptr_eq(&a, &ca.leaf("A.TEST").unwrap()));
    }

    #[test]
    fn the_generated_key_is_private_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let first = CertAuthority::load(&CaSource::Dir(dir.path().to_path_buf())).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(CA_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = CertAuthority::load(&CaSource::Dir(dir.path().to_path_buf())).unwrap();
        assert_eq!(first.cert_pem(), again.cert_pem(), "an existing CA is kept");
        verify(&again, "reloaded.test").unwrap();
        // Supplied files: both or an error naming the problem.
        let bad = dir.path().join("bad.pem");
        std::fs::write(&bad, "not a key").unwrap();
        let e = CertAuthority::load(&CaSource::Files {
            cert: dir.path().join(CA_CERT_FILE),
            key: bad,
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("bad.pem") && e.contains("private key"), "{e}");
    }
}
