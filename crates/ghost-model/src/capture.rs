//! A recorded exchange. Its fields are private and its only constructor is
//! [`crate::Redactor::capture`], so an unredacted capture cannot exist.

use bytes::Bytes;

/// One header as recorded: lower-cased name, raw value bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderPair {
    pub name: String,
    pub value: Bytes,
}

/// The raw material of a capture, before redaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureParts {
    pub id: String,
    pub service: String,
    /// The LEARN window this exchange was recorded in.
    pub session_id: String,
    pub method: String,
    /// Path and query exactly as the client sent them.
    pub uri: String,
    pub request_headers: Vec<HeaderPair>,
    pub request_body: Bytes,
    pub status: u16,
    pub response_headers: Vec<HeaderPair>,
    pub response_body: Bytes,
    pub started_at_us: i64,
    pub duration_us: i64,
    /// The upstream base URL the request was forwarded to.
    pub upstream: String,
    pub http_version: String,
    /// The response body exceeded the capture cap; `response_body` is incomplete.
    pub body_truncated: bool,
    /// The HTTP version spoken to the upstream (may differ from the client's
    /// `http_version`: ALPN picks it per side); empty when unknown.
    pub upstream_http_version: String,
    /// The tenant of the service.
    pub tenant: String,
}

/// A redacted, recorded exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture(CaptureParts);

impl Capture {
    pub(crate) fn from_redacted(parts: CaptureParts) -> Self {
        Self(parts)
    }

    pub fn id(&self) -> &str {
        &self.0.id
    }
    pub fn service(&self) -> &str {
        &self.0.service
    }
    pub fn session_id(&self) -> &str {
        &self.0.session_id
    }
    pub fn method(&self) -> &str {
        &self.0.method
    }
    pub fn uri(&self) -> &str {
        &self.0.uri
    }
    pub fn request_headers(&self) -> &[HeaderPair] {
        &self.0.request_headers
    }
    pub fn request_body(&self) -> &Bytes {
        &self.0.request_body
    }
    pub fn status(&self) -> u16 {
        self.0.status
    }
    pub fn response_headers(&self) -> &[HeaderPair] {
        &self.0.response_headers
    }
    pub fn response_body(&self) -> &Bytes {
        &self.0.response_body
    }
    pub fn started_at_us(&self) -> i64 {
        self.0.started_at_us
    }
    pub fn duration_us(&self) -> i64 {
        self.0.duration_us
    }
    pub fn upstream(&self) -> &str {
        &self.0.upstream
    }
    pub fn http_version(&self) -> &str {
        &self.0.http_version
    }
    pub fn body_truncated(&self) -> bool {
        self.0.body_truncated
    }
    pub fn upstream_http_version(&self) -> &str {
        &self.0.upstream_http_version
    }

    pub fn tenant(&self) -> &str {
        &self.0.tenant
    }
    /// The redacted parts; building a capture from them again needs the redactor.
    pub fn parts(&self) -> &CaptureParts {
        &self.0
    }
}
