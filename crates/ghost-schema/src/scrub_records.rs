//! Wire structs of the scrubber's records: sealed scrubbed captures and scrub
//! configurations (field for field the latest schemas).

use serde::{Deserialize, Serialize};

use crate::contract::{Contract, Subject};
use crate::records::HeaderRecord;

/// Replacements of one PII category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Finding")]
pub struct FindingRecord {
    pub category: String,
    pub count: i64,
}

/// `schemas/scrubbed_capture`: a capture after scrubbing, sealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "ScrubbedCapture")]
pub struct ScrubbedCaptureRecord {
    pub id: String,
    pub service: String,
    pub session_id: String,
    pub method: String,
    pub uri: String,
    pub request_headers: Vec<HeaderRecord>,
    #[serde(with = "apache_avro::serde::bytes")]
    pub request_body: Vec<u8>,
    pub status: i32,
    pub response_headers: Vec<HeaderRecord>,
    #[serde(with = "apache_avro::serde::bytes")]
    pub response_body: Vec<u8>,
    pub started_at_us: i64,
    pub duration_us: i64,
    pub upstream: String,
    pub http_version: String,
    pub body_truncated: bool,
    pub scrubbed_at_us: i64,
    pub scrub_config_id: String,
    pub findings: Vec<FindingRecord>,
    /// HTTP version spoken to the upstream; empty for records written before v2.
    #[serde(default)]
    pub upstream_http_version: String,
    /// Tenant of the service; `default` for records written before v2.
    #[serde(default = "crate::records::default_tenant")]
    pub tenant: String,
}

impl Contract for ScrubbedCaptureRecord {
    const SUBJECT: Subject = Subject::ScrubbedCapture;
}

/// One JSONPath rule of a scrub configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "ScrubRule")]
pub struct ScrubRuleRecord {
    pub path: String,
    pub replacement_json: String,
}

/// `schemas/scrub_config`: a scrub configuration event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "ScrubConfig")]
pub struct ScrubConfigRecord {
    pub id: String,
    pub service: Option<String>,
    pub enabled: bool,
    pub rules: Vec<ScrubRuleRecord>,
    pub extra_headers: Vec<String>,
    pub extra_keys: Vec<String>,
    pub changed_at_us: i64,
    pub actor: String,
}

impl Contract for ScrubConfigRecord {
    const SUBJECT: Subject = Subject::ScrubConfig;
}
