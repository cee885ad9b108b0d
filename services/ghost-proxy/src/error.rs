//! Proxy errors and their JSON form.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};

/// Why the proxy could not start or keep running.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start a request thread: {source}")]
    Thread {
        #[source]
        source: std::io::Error,
    },
    #[error("invalid proxy configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Topic(#[from] ghost_topics::TopicError),
    #[error("log error while {context}: {source}")]
    Log {
        context: &'static str,
        #[source]
        source: ghost_log::LogError,
    },
}

/// A JSON error response `{ "error": code, "detail": detail }`.
pub fn json_error(status: StatusCode, code: &str, detail: impl Into<String>) -> Response<Bytes> {
    let body = serde_json::json!({ "error": code, "detail": detail.into() });
    json_response(status, &body)
}

pub fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response<Bytes> {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = Response::new(Bytes::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
