//! Why telemetry could not start.

/// A configuration or start-up failure of the exporter.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("OTLP endpoint {0}")]
    Endpoint(String),
    #[error("the OTLP exporter could not be built: {0}")]
    Exporter(String),
    #[error("telemetry must start inside a tokio runtime")]
    NoRuntime,
    #[error("telemetry is already running in this process")]
    AlreadyRunning,
}
