//! Starts OpenTelemetry export when an endpoint is configured.

use anyhow::Context;
use ghost_telemetry::{OtelConfig, Telemetry};

/// Starts exporting traces as `service` when `endpoint` (flag or env, then
/// ghost.toml) or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT names a collector.
pub fn start(endpoint: Option<String>, service: &str) -> anyhow::Result<Option<Telemetry>> {
    let telemetry = ghost_telemetry::init(&OtelConfig::new(endpoint, service))
        .context("cannot start OpenTelemetry export")?;
    if let Some(t) = &telemetry {
        tracing::info!(url = %t.traces_url, "exporting OpenTelemetry traces over OTLP/HTTP");
    }
    Ok(telemetry)
}

/// Flushes queued spans at shutdown.
pub async fn stop(telemetry: Option<Telemetry>) {
    if let Some(t) = telemetry {
        t.shutdown(std::time::Duration::from_secs(5)).await;
    }
}
