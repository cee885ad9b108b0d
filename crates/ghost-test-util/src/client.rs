//! A small HTTP/1.1 (or h2c) client for tests.

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A fully read response.
#[derive(Debug, Clone)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Headers that must match between a live response and its replay, sorted:
    /// all but those that legitimately differ (connection framing, the date,
    /// ghost's own tag).
    pub fn comparable_headers(&self) -> Vec<(String, Vec<u8>)> {
        let mut h: Vec<_> = self
            .headers
            .iter()
            .filter(|(n, _)| {
                !matches!(
                    n.as_str(),
                    "x-ghost-mock"
                        | "transfer-encoding"
                        | "connection"
                        | "keep-alive"
                        | "date"
                        | "content-length"
                )
            })
            .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
            .collect();
        h.sort();
        h
    }
}

/// Sends one request over a fresh connection (HTTP/1.1, or h2c with `h2 = true`).
pub async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
    h2: bool,
) -> Result<TestResponse, String> {
    let mut builder = Client::builder(TokioExecutor::new());
    builder.http2_only(h2);
    let client = builder.build_http::<Full<Bytes>>();
    let mut req = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Full::new(body.into()))
        .map_err(|e| e.to_string())?;
    let resp = client.request(req).await.map_err(|e| format!("{e:?}"))?;
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(TestResponse {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}
