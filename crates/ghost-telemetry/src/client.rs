//! The OTLP exporter's HTTP client: hyper on ghost's own tokio runtime.
//!
//! The SDK's batch processor exports from its own thread, outside any runtime,
//! so each request is spawned onto the runtime ghost started with and awaited
//! from there (a tokio `JoinHandle` can be awaited from any executor).

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry_http::{HttpClient, HttpError};
use std::time::Duration;
use tokio::runtime::Handle;

/// Largest collector response read (it is a small protobuf or JSON status).
const MAX_RESPONSE: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
enum ExportError {
    #[error("the collector did not answer within {0:?}")]
    Timeout(Duration),
    #[error("request to the collector failed: {0}")]
    Request(#[from] hyper_util::client::legacy::Error),
    #[error("the collector's response could not be read: {0}")]
    Body(String),
    #[error("the export task ended: {0}")]
    Task(#[from] tokio::task::JoinError),
}

#[derive(Debug)]
pub(crate) struct OtlpClient {
    client: Client<HttpConnector, Full<Bytes>>,
    runtime: Handle,
    timeout: Duration,
}

impl OtlpClient {
    pub(crate) fn new(runtime: Handle, timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            runtime,
            timeout,
        }
    }
}

#[async_trait::async_trait]
impl HttpClient for OtlpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (client, timeout) = (self.client.clone(), self.timeout);
        let (parts, body) = request.into_parts();
        let request = Request::from_parts(parts, Full::new(body));
        let task = self.runtime.spawn(async move {
            let exchange = async {
                let resp = client.request(request).await?;
                let (parts, body) = resp.into_parts();
                let body = Limited::new(body, MAX_RESPONSE)
                    .collect()
                    .await
                    .map_err(|e| ExportError::Body(e.to_string()))?
                    .to_bytes();
                Ok::<_, ExportError>(Response::from_parts(parts, body))
            };
            tokio::time::timeout(timeout, exchange)
                .await
                .map_err(|_| ExportError::Timeout(timeout))?
        });
        let resp = task.await.map_err(ExportError::from)??;
        Ok(resp)
    }
}
