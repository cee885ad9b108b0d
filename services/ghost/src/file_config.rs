//! `ghost.toml`: the lowest-precedence source of settings above the defaults.

use crate::cli::Fsync;
use anyhow::Context;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// One `[[services]]` table.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ServiceEntry {
    /// Service name (letters, digits, `.`, `_`, `-`).
    pub name: String,
    /// The tenant the service belongs to (team mode scopes its data by it).
    #[serde(
        default = "ghost_schema::default_tenant",
        skip_serializing_if = "is_default_tenant"
    )]
    pub tenant: String,
    /// Upstream base URL.
    pub upstream: String,
    /// Route requests with this Host header here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Route requests whose path starts with this here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// Send the client's Host header upstream instead of the upstream's own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub preserve_host: bool,
    /// Extra trust anchors (PEM) for an https:// upstream with a private CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate chain (PEM) for an upstream that requires mTLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
    /// Accept any certificate from the upstream (test rigs only; warned about).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_verify: bool,
}

fn is_default_tenant(t: &str) -> bool {
    t == ghost_schema::DEFAULT_TENANT
}

impl ServiceEntry {
    /// A service with only a name and an upstream.
    pub fn new(name: &str, upstream: &str) -> Self {
        Self {
            name: name.to_owned(),
            tenant: ghost_schema::default_tenant(),
            upstream: upstream.to_owned(),
            host: None,
            path_prefix: None,
            preserve_host: false,
            ca_file: None,
            client_cert: None,
            client_key: None,
            insecure_skip_verify: false,
        }
    }
}

/// The file's settings; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data: Option<PathBuf>,
    pub upstream: Option<String>,
    pub proxy_addr: Option<SocketAddr>,
    pub control_addr: Option<SocketAddr>,
    pub max_body_bytes: Option<usize>,
    pub durable_captures: Option<bool>,
    pub proxy_threads: Option<u16>,
    pub fsync: Option<Fsync>,
    /// `--tls-intercept`: off, lax or strict.
    pub tls_intercept: Option<crate::cli::TlsIntercept>,
    pub ca_cert: Option<PathBuf>,
    pub ca_key: Option<PathBuf>,
    pub tls_addr: Option<SocketAddr>,
    /// Hosts forward-proxy clients may reach (see `--allow-hosts`).
    pub allow_hosts: Option<Vec<String>>,
    /// OTLP/HTTP collector base URL (below `--otlp` and OTEL_EXPORTER_OTLP_ENDPOINT).
    pub otlp: Option<String>,
    #[serde(default)]
    pub redact_headers: Vec<String>,
    #[serde(default)]
    pub services: Vec<ServiceEntry>,
}

impl FileConfig {
    /// Reads `path`, or `./ghost.toml` if it exists, else the empty config.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from("ghost.toml"), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                return Ok(Self::default());
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }
}
