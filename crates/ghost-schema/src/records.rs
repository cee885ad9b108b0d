//! Wire structs: the Rust shape of the latest version of each schema, field for field.
//!
//! These are transport types, not the domain model: no invariants beyond what Avro can
//! express (the redaction guarantee lives in the type that builds a [`CaptureRecord`]).
//! Byte fields go through `apache_avro::serde::bytes` so they are written as Avro `bytes`
//! instead of an array of ints.

use serde::{Deserialize, Serialize};

use crate::contract::{Contract, Subject};

/// One header line; `dev.ghost.Header`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Header")]
pub struct HeaderRecord {
    /// Header name as received; case kept so replay is faithful.
    pub name: String,
    /// Raw value; HTTP allows non-UTF-8 (obs-text) bytes and replay must keep them.
    #[serde(with = "apache_avro::serde::bytes")]
    pub value: Vec<u8>,
}

/// One LEARN exchange on `ghost.captures.v1`; `dev.ghost.Capture`, latest version v4.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Capture")]
pub struct CaptureRecord {
    /// UUID of the capture, for deduplication and provenance.
    pub id: String,
    /// Service the exchange belongs to; the topic key.
    pub service: String,
    /// LEARN window id, scoping session-verbatim replay.
    pub session_id: String,
    /// HTTP method as received.
    pub method: String,
    /// Path and query exactly as received, before normalization.
    pub uri: String,
    /// Redacted request headers in received order.
    pub request_headers: Vec<HeaderRecord>,
    /// Request body verbatim.
    #[serde(with = "apache_avro::serde::bytes")]
    pub request_body: Vec<u8>,
    /// Upstream status code.
    pub status: i32,
    /// Redacted response headers in upstream order.
    pub response_headers: Vec<HeaderRecord>,
    /// Response body verbatim (possibly cut at the capture cap, see `body_truncated`).
    #[serde(with = "apache_avro::serde::bytes")]
    pub response_body: Vec<u8>,
    /// Request arrival, microseconds since the Unix epoch.
    pub started_at_us: i64,
    /// Request arrival to response complete, microseconds.
    pub duration_us: i64,
    /// Upstream base URL; `""` for records written before v2.
    pub upstream: String,
    /// HTTP version of the exchange; `"HTTP/1.1"` for records written before v2.
    pub http_version: String,
    /// The response body exceeded the capture cap and `response_body` is incomplete.
    pub body_truncated: bool,
    /// HTTP version spoken to the upstream; empty for records written before v3.
    #[serde(default)]
    pub upstream_http_version: String,
    /// Tenant of the service; `default` for records written before v4.
    #[serde(default = "default_tenant")]
    pub tenant: String,
}

/// The tenant of records written before records carried one.
pub fn default_tenant() -> String {
    DEFAULT_TENANT.to_owned()
}

/// The tenant every service belongs to unless configured otherwise.
pub const DEFAULT_TENANT: &str = "default";

impl Contract for CaptureRecord {
    const SUBJECT: Subject = Subject::Capture;
}

/// Persisted modes; `dev.ghost.Mode`. TRANSITIONING is derived at runtime, never written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename = "Mode")]
pub enum ModeRecord {
    /// Forward and record.
    Learn,
    /// Serve from the library.
    Mock,
    /// Forward, record nothing.
    Passthrough,
}

/// End offset of one partition; `dev.ghost.PartitionOffset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename = "PartitionOffset")]
pub struct PartitionOffsetRecord {
    /// Partition of `ghost.captures.v1`.
    pub partition: i32,
    /// Next offset to be written in that partition when the change was made.
    pub offset: i64,
}

/// A mode switch on `ghost.modes.v1`; `dev.ghost.ModeChange`, latest version v2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "ModeChange")]
pub struct ModeChangeRecord {
    /// UUID of the change.
    pub id: String,
    /// Service the change applies to; `None` is the global mode.
    pub service: Option<String>,
    /// Mode in force from this change on.
    pub mode: ModeRecord,
    /// Capture end offsets the projections must reach before MOCK serves.
    pub barrier: Vec<PartitionOffsetRecord>,
    /// When the change was made, microseconds since the Unix epoch.
    pub changed_at_us: i64,
    /// Who made the change.
    pub actor: String,
    /// Tenant of the scope; `default` for records written before v2.
    #[serde(default = "default_tenant")]
    pub tenant: String,
}

impl Contract for ModeChangeRecord {
    const SUBJECT: Subject = Subject::ModeChange;
}

/// What a library record does to its entry; `dev.ghost.LibraryOp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename = "LibraryOp")]
pub enum LibraryOp {
    /// Create or replace the entry.
    Upsert,
    /// Remove the entry.
    Delete,
}

/// The request a library entry answers; `dev.ghost.RequestSpec`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "RequestSpec")]
pub struct RequestSpecRecord {
    /// Method to match.
    pub method: String,
    /// Path and query to match.
    pub uri: String,
    /// Headers the request must carry.
    pub headers: Vec<HeaderRecord>,
    /// Body to match, verbatim.
    #[serde(with = "apache_avro::serde::bytes")]
    pub body: Vec<u8>,
}

/// The response a library entry serves; `dev.ghost.ResponseSpec`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "ResponseSpec")]
pub struct ResponseSpecRecord {
    /// Status to serve.
    pub status: i32,
    /// Headers to serve, in order.
    pub headers: Vec<HeaderRecord>,
    /// Body to serve, verbatim.
    #[serde(with = "apache_avro::serde::bytes")]
    pub body: Vec<u8>,
}

/// An edit, seed or deletion on `ghost.library.v1`; `dev.ghost.LibraryEntry`, latest v2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "LibraryEntry")]
pub struct LibraryEntryRecord {
    /// Stable entry id; the topic key.
    pub entry_id: String,
    /// Upsert or delete.
    pub op: LibraryOp,
    /// Service the entry belongs to.
    pub service: String,
    /// Provenance, e.g. `"edit"`, `"seed:har"`.
    pub source: String,
    /// Request to match; `None` on delete.
    pub request: Option<RequestSpecRecord>,
    /// Response to serve; `None` on delete.
    pub response: Option<ResponseSpecRecord>,
    /// When the operation was made, microseconds since the Unix epoch.
    pub changed_at_us: i64,
    /// Tenant of the entry's service; `default` for records written before v2.
    #[serde(default = "default_tenant")]
    pub tenant: String,
}

impl Contract for LibraryEntryRecord {
    const SUBJECT: Subject = Subject::LibraryEntry;
}
