//! Proxy metrics: constant names, handles resolved once, Prometheus rendering.

use crate::request_stats::RequestStats;
use metrics::{Counter, Gauge};

pub const REQUESTS_TOTAL: &str = "ghost_requests_total";
pub const LIBRARY_SIZE: &str = "ghost_mock_library_size";
pub const IO_ERRORS_TOTAL: &str = "ghost_io_errors_total";
pub const REQUEST_DURATION: &str = "ghost_request_duration_seconds";
pub const CAPTURES_DROPPED_TOTAL: &str = "ghost_captures_dropped_total";
pub const CAPTURES_PUBLISHED_TOTAL: &str = "ghost_captures_published_total";
/// Captures queued but not yet acknowledged by the log: grows while the log is
/// slow or unreachable, so an outage shows before anything is dropped.
pub const CAPTURES_PENDING: &str = "ghost_captures_pending";
/// Requests to `https://` upstreams that failed in the TLS handshake or on the
/// upstream's certificate (`service` label).
/// CONNECT tunnels opened, by `kind` (`blind`: passed through unseen;
/// `intercepted`: TLS terminated by ghost).
pub const TUNNELS_TOTAL: &str = "ghost_tunnels_total";
/// Leaf certificates looked up for interception, by `result`: `hit`, `miss`
/// (minted), `evicted`.
pub const TLS_LEAF_CACHE_TOTAL: &str = "ghost_tls_leaf_cache_total";
/// TLS handshakes with clients (intercepted tunnels, the TLS listener) that failed.
pub const TLS_CLIENT_HANDSHAKE_FAILURES_TOTAL: &str = "ghost_tls_client_handshake_failures_total";
/// Journal entries dropped because nobody read them fast enough.
pub const JOURNAL_DROPPED_TOTAL: &str = "ghost_journal_dropped_total";
pub const TLS_UPSTREAM_FAILURES_TOTAL: &str = "ghost_tls_upstream_failures_total";

/// Installs the process-wide recorder (see `ghost_telemetry::metrics`) and
/// adds the request histogram, which the proxy keeps outside it, to its output.
pub fn install() {
    ghost_telemetry::metrics::install();
    ghost_telemetry::metrics::add_section(|out| RequestStats::global().render_into(out));
}

/// Renders every metric in the Prometheus text format.
pub fn render() -> String {
    install();
    ghost_telemetry::metrics::render()
}

/// How a request was answered; the `match_type` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchType {
    Exact,
    SmartSwap,
    Miss,
    Learn,
    Passthrough,
    Transitioning,
    Error,
}

impl MatchType {
    pub(crate) const ALL: [MatchType; 7] = [
        MatchType::Exact,
        MatchType::SmartSwap,
        MatchType::Miss,
        MatchType::Learn,
        MatchType::Passthrough,
        MatchType::Transitioning,
        MatchType::Error,
    ];

    pub fn label(self) -> &'static str {
        match self {
            MatchType::Exact => "exact",
            MatchType::SmartSwap => "smart-swap",
            MatchType::Miss => "miss",
            MatchType::Learn => "learn",
            MatchType::Passthrough => "passthrough",
            MatchType::Transitioning => "transitioning",
            MatchType::Error => "error",
        }
    }
}

/// Operations whose I/O failures are counted (`operation` label).
#[derive(Debug, Clone, Copy)]
pub enum IoOp {
    Upstream,
    CapturePublish,
    CaptureEnqueue,
    LogRead,
    Decode,
}

impl IoOp {
    fn label(self) -> &'static str {
        match self {
            IoOp::Upstream => "upstream",
            IoOp::CapturePublish => "capture_publish",
            IoOp::CaptureEnqueue => "capture_enqueue",
            IoOp::LogRead => "log_read",
            IoOp::Decode => "decode",
        }
    }
}

/// Handles resolved once so the hot path only does atomic adds.
#[derive(Debug, Clone)]
pub struct Metrics {
    pub library_size: Gauge,
    pub captures_dropped: Counter,
    pub captures_published: Counter,
    pub captures_pending: Gauge,
}

impl Metrics {
    pub fn new() -> Self {
        install();
        Self {
            library_size: metrics::gauge!(LIBRARY_SIZE),
            captures_dropped: metrics::counter!(CAPTURES_DROPPED_TOTAL),
            captures_published: metrics::counter!(CAPTURES_PUBLISHED_TOTAL),
            captures_pending: metrics::gauge!(CAPTURES_PENDING),
        }
    }

    /// Counts an answered request and its duration (per-thread shards: see
    /// `request_stats`).
    pub fn request(&self, m: MatchType, elapsed: std::time::Duration) {
        RequestStats::global().record(m, elapsed);
    }

    pub fn tunnel(&self, kind: &'static str) {
        metrics::counter!(TUNNELS_TOTAL, "kind" => kind).increment(1);
    }

    pub fn tls_client_handshake_failure(&self) {
        metrics::counter!(TLS_CLIENT_HANDSHAKE_FAILURES_TOTAL).increment(1);
    }

    pub fn tls_upstream_failure(&self, service: &ghost_model::ServiceName) {
        metrics::counter!(TLS_UPSTREAM_FAILURES_TOTAL, "service" => service.to_string())
            .increment(1);
    }

    pub fn io_error(&self, op: IoOp) {
        self.io_errors(op, 1);
    }

    pub fn io_errors(&self, op: IoOp, n: u64) {
        metrics::counter!(IO_ERRORS_TOTAL, "operation" => op.label()).increment(n);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
