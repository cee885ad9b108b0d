//! Proxy configuration: listen address, services and their upstreams, limits.

use ghost_model::{Redactor, ServiceName};
use http::Uri;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Default cap on request and recorded response bodies.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Default depth of the capture publishing queue.
pub const DEFAULT_CAPTURE_QUEUE: usize = 8192;

/// One upstream the proxy forwards to, and how requests are routed to it.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub name: ServiceName,
    /// The tenant the service's captures belong to.
    pub tenant: String,
    /// Base URL: scheme, authority and an optional path prefix prepended on forward.
    pub upstream: Uri,
    /// Route requests whose `Host` (without port) equals this.
    pub host: Option<String>,
    /// Route requests whose path starts with this (at a `/` boundary).
    pub path_prefix: Option<String>,
    /// Send the client's `Host` upstream instead of the upstream's authority
    /// (for upstreams that serve several virtual hosts behind one address).
    pub preserve_host: bool,
    /// TLS settings for an `https://` upstream (ignored for `http://`).
    pub tls: UpstreamTls,
}

/// How ghost speaks TLS to one service's `https://` upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamTls {
    /// Extra trust anchors (PEM), on top of the platform's and webpki's roots:
    /// for upstreams with a private CA.
    pub ca_file: Option<PathBuf>,
    /// Client certificate chain (PEM) for upstreams that require mTLS.
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub client_key: Option<PathBuf>,
    /// Accept any server certificate. For a test rig only: ghost warns at
    /// start-up and `GET /v1/services` shows it.
    pub insecure_skip_verify: bool,
}

/// Everything the proxy needs to run.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub listen: SocketAddr,
    /// Services in routing order; the one named `default` (if any) catches the rest.
    pub services: Vec<ServiceConfig>,
    /// Requests above this get 413; responses above it stream through but their
    /// capture is marked truncated and never served as a mock.
    pub max_body_bytes: usize,
    /// Capture queue depth; when full, captures are dropped and counted.
    pub capture_queue: usize,
    /// Make each LEARN response wait until its capture is synced to the log.
    pub durable_captures: bool,
    pub redactor: Redactor,
    /// Seconds clients are told to wait while TRANSITIONING.
    pub retry_after_secs: u32,
    /// `N` (default: one per available core): N request threads, each owning
    /// its connections and upstream links (less CPU per request, and on our
    /// 2-core benchmark box also the better p99). `0`: connections are served
    /// on the caller's work-stealing runtime.
    pub threads: usize,
    /// Hosts a forward-proxy client may reach through services created on the
    /// fly (`api.example.com`, `*.example.com`, `*`). `None`: any host while
    /// listening on loopback, none otherwise.
    pub allow_hosts: Option<Vec<String>>,
    /// TLS interception of CONNECT tunnels (off by default).
    pub intercept: crate::intercept::InterceptConfig,
}

impl ProxyConfig {
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            services: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            capture_queue: DEFAULT_CAPTURE_QUEUE,
            durable_captures: false,
            redactor: Redactor::default(),
            retry_after_secs: 1,
            threads: default_threads(),
            allow_hosts: None,
            intercept: crate::intercept::InterceptConfig::off(),
        }
    }
}

/// One request thread per core the process may run on (1 when unknown).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}
