//! ghost-telemetry: OpenTelemetry traces exported over OTLP/HTTP, and the
//! process-wide Prometheus recorder ([`metrics`]).
//!
//! Off unless an endpoint is configured (`--otlp URL` or
//! `OTEL_EXPORTER_OTLP_ENDPOINT`). While off, [`enabled`] is one atomic load
//! and callers build nothing, so the request path pays nothing measurable.
//!
//! ghost already carries a W3C trace context on every log record (see
//! `ghost_log::trace`), with ids it chose itself; spans here take those ids
//! ([`SpanIds`]) rather than letting the SDK pick new ones, so the span a
//! worker exports for a record and the `traceparent` its outputs carry are the
//! same hop. Spans are reported once finished ([`export`]), with their real
//! start and end times: a proxied request, its upstream call, the log append of
//! its capture (acknowledged later, on another task) and each worker's
//! handling of a record.

mod client;
mod error;
mod ids;
pub mod metrics;

pub use error::TelemetryError;
pub use opentelemetry::KeyValue;
pub use opentelemetry::trace::SpanKind;

use opentelemetry::trace::{
    SpanContext, SpanId, Status, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer,
    TracerProvider,
};
use opentelemetry::{Context, trace::Span};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

static TRACER: OnceLock<SdkTracer> = OnceLock::new();

/// The environment variable naming the collector's base URL (OTLP spec).
pub const ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The signal-specific override, used as is when set (OTLP spec).
pub const TRACES_ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";

/// Whether spans are being exported.
#[inline]
pub fn enabled() -> bool {
    TRACER.get().is_some()
}

/// Where a span sits in its trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanIds {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    /// The parent span, `None` for a root.
    pub parent: Option<[u8; 8]>,
    /// W3C trace flags (bit 0: sampled); an unsampled trace is not exported.
    pub flags: u8,
}

/// A span that has ended.
#[derive(Debug)]
pub struct FinishedSpan {
    pub name: &'static str,
    pub kind: SpanKind,
    pub ids: SpanIds,
    pub start: SystemTime,
    pub end: SystemTime,
    pub attributes: Vec<KeyValue>,
    /// Set when the operation failed: the span's status becomes an error.
    pub error: Option<String>,
}

/// Hands a finished span to the exporter (batched, bounded: spans beyond the
/// queue are dropped by the SDK rather than slowing anything down). A no-op
/// while telemetry is off.
pub fn export(span: FinishedSpan) {
    let Some(tracer) = TRACER.get() else {
        return;
    };
    let ids = span.ids;
    let trace_id = TraceId::from_bytes(ids.trace_id);
    let flags = TraceFlags::new(ids.flags);
    let parent = match ids.parent {
        Some(p) => Context::new().with_remote_span_context(SpanContext::new(
            trace_id,
            SpanId::from_bytes(p),
            flags,
            true,
            TraceState::default(),
        )),
        // A root: the sampler sees no parent, so carry the trace's own decision.
        None if !flags.is_sampled() => return,
        None => Context::new(),
    };
    let builder = tracer
        .span_builder(span.name)
        .with_kind(span.kind)
        .with_start_time(span.start)
        .with_attributes(span.attributes);
    let mut s = ids::with_chosen(ids.trace_id, ids.span_id, || {
        builder.start_with_context(tracer, &parent)
    });
    if let Some(e) = span.error {
        s.set_status(Status::error(e));
    }
    s.end_with_timestamp(span.end);
}

/// Where to export and as whom.
#[derive(Debug, Clone)]
pub struct OtelConfig {
    /// The collector's base URL (`/v1/traces` is appended), `http://` only.
    /// `None`: only `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` can enable export.
    pub endpoint: Option<String>,
    /// `service.name` of the exported resource.
    pub service_name: String,
}

impl OtelConfig {
    /// From the `--otlp` flag (or [`ENDPOINT_ENV`], which clap reads into it).
    pub fn new(endpoint: Option<String>, service_name: &str) -> Self {
        Self {
            endpoint: endpoint.filter(|e| !e.trim().is_empty()),
            service_name: service_name.to_owned(),
        }
    }

    /// The traces URL, or `None` when nothing asks for export.
    fn traces_url(&self) -> Result<Option<String>, TelemetryError> {
        let signal = std::env::var(TRACES_ENDPOINT_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty());
        let url = match (signal, &self.endpoint) {
            (Some(url), _) => url,
            (None, Some(base)) => format!("{}/v1/traces", base.trim_end_matches('/')),
            (None, None) => return Ok(None),
        };
        let uri: http::Uri = url
            .parse()
            .map_err(|e| TelemetryError::Endpoint(format!("`{url}` is not a URL: {e}")))?;
        if uri.scheme_str() != Some("http") || uri.authority().is_none() {
            return Err(TelemetryError::Endpoint(format!(
                "`{url}` must be an absolute http:// URL (OTLP/HTTP over TLS is not supported yet)"
            )));
        }
        Ok(Some(url))
    }
}

/// The running exporter; [`Telemetry::shutdown`] flushes what is queued.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
    pub traces_url: String,
}

/// Starts exporting if `config` (or the environment) names an endpoint;
/// `Ok(None)` when it does not. Must be called inside a tokio runtime: the
/// exporter's HTTP requests run on it. Only the first successful call in a
/// process takes effect.
pub fn init(config: &OtelConfig) -> Result<Option<Telemetry>, TelemetryError> {
    let Some(url) = config.traces_url()? else {
        return Ok(None);
    };
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| TelemetryError::NoRuntime)?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client::OtlpClient::new(runtime, Duration::from_secs(10)))
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url.clone())
        .build()
        .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_id_generator(ids::ChosenIds::default())
        .with_resource(
            Resource::builder()
                .with_service_name(config.service_name.clone())
                .build(),
        )
        .build();
    if TRACER.set(provider.tracer("ghost")).is_err() {
        return Err(TelemetryError::AlreadyRunning);
    }
    Ok(Some(Telemetry {
        provider,
        traces_url: url,
    }))
}

impl Telemetry {
    /// Exports everything still queued, waiting at most `deadline`.
    pub async fn shutdown(self, deadline: Duration) {
        // The SDK blocks its caller while its export thread flushes, and that
        // export runs on this runtime: block a blocking-pool thread, not a worker.
        let provider = self.provider;
        let flushed = tokio::time::timeout(
            deadline,
            tokio::task::spawn_blocking(move || provider.shutdown()),
        )
        .await;
        match flushed {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => tracing::warn!(%error, "spans not exported at shutdown"),
            Ok(Err(error)) => tracing::warn!(%error, "span exporter shutdown failed"),
            Err(_) => tracing::warn!("spans still queued at the shutdown deadline"),
        }
    }
}
