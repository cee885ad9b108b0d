//! A minimal HTTP client for the CLI's calls to the control plane.

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Sends one request and returns (status, parsed JSON body).
pub async fn call(
    method: http::Method,
    url: &str,
    api_key: Option<&str>,
    body: Option<serde_json::Value>,
) -> anyhow::Result<(http::StatusCode, serde_json::Value)> {
    let uri: http::Uri = url
        .parse()
        .with_context(|| format!("invalid control URL `{url}`"))?;
    if uri.scheme_str() != Some("http") {
        bail!("control URL `{url}` must start with http://");
    }
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = http::Request::builder()
        .method(method)
        .uri(uri)
        .header(http::header::CONTENT_TYPE, "application/json");
    if let Some(k) = api_key {
        req = req.header("x-api-key", k);
    }
    let req = req.body(Full::new(Bytes::from(payload)))?;
    let resp = client.request(req).await.with_context(|| {
        format!("cannot reach the control plane at {url} (is `ghost up` running?)")
    })?;
    let status = resp.status();
    let bytes = resp.into_body().collect().await?.to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        serde_json::json!({ "error": "bad_response", "detail": String::from_utf8_lossy(&bytes) })
    });
    Ok((status, json))
}
