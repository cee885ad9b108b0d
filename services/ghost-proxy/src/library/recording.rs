//! One servable recording and its pre-built response.

use bytes::Bytes;
use ghost_model::fingerprint::RequestKey;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use std::sync::Arc;

/// A response ready to serve: status, filtered headers, body bytes.
#[derive(Debug, Clone)]
pub struct MockResponse {
    pub status: StatusCode,
    /// Recorded headers minus hop-by-hop and redacted ones, with a content-length
    /// that matches `body` (except for HEAD/304, which keep the recorded one).
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A recorded exchange as the library keeps it.
#[derive(Debug)]
pub struct Recording {
    pub capture_id: Box<str>,
    pub service: Arc<str>,
    pub session_id: Arc<str>,
    pub method: Arc<str>,
    /// Path and query exactly as recorded.
    pub uri: Box<str>,
    pub normalized_uri: Box<str>,
    pub body_fp: u128,
    pub key: RequestKey,
    pub recorded_at_us: i64,
    pub response: MockResponse,
}

pub use crate::outbound::{HOP_BY_HOP, is_hop_by_hop};

impl MockResponse {
    /// Builds the served form of a recorded response.
    pub fn build(
        method: &str,
        status: u16,
        headers: &[ghost_model::HeaderPair],
        body: Bytes,
    ) -> Option<Self> {
        let status = StatusCode::from_u16(status).ok()?;
        let keep_length = method.eq_ignore_ascii_case("HEAD") || status == StatusCode::NOT_MODIFIED;
        let mut map = HeaderMap::with_capacity(headers.len() + 1);
        for h in headers {
            if is_hop_by_hop(&h.name)
                || h.value == ghost_model::REDACTED.as_bytes()
                || (h.name == "content-length" && !keep_length)
            {
                continue;
            }
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(h.name.as_bytes()),
                HeaderValue::from_bytes(&h.value),
            ) else {
                continue;
            };
            map.append(name, value);
        }
        if !keep_length && !bodiless(status) {
            map.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        }
        Some(Self {
            status,
            headers: map,
            body,
        })
    }
}

/// Statuses that never carry a body.
pub fn bodiless(status: StatusCode) -> bool {
    status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}
