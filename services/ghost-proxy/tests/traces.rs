//! Every capture record carries a `traceparent`: the client's trace continued
//! when the request brought a valid one, a new root otherwise.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_log::SharedLog;
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog};
use ghost_log::trace::TraceParent;
use ghost_model::ServiceName;
use ghost_proxy::{ProxyConfig, ServiceConfig};
use ghost_schema::CaptureRecord;
use ghost_test_util::{Upstream, send};
use ghost_topics as topics;
use http::{Method, StatusCode};
use std::collections::HashMap;

const CLIENT_TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_continue_the_clients_trace_or_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let log: SharedLog = EmbeddedLog::open(EmbeddedConfig::new(dir.path()))
        .await
        .unwrap();
    let up = Upstream::start("unused").await;
    let mut config = ProxyConfig::new("127.0.0.1:0".parse().unwrap());
    config.services.push(ServiceConfig {
        tenant: ghost_schema::DEFAULT_TENANT.to_owned(),
        preserve_host: false,
        tls: Default::default(),
        name: ServiceName::default_service(),
        upstream: up.url().parse().unwrap(),
        host: None,
        path_prefix: None,
    });
    let proxy = ghost_proxy::start(config, log.clone()).await.unwrap();
    let url = |p: &str| format!("http://{}{p}", proxy.local_addr);
    for (path, headers) in [
        ("/users/1", vec![("traceparent", CLIENT_TRACE)]),
        ("/users/2", vec![]),
        ("/users/3", vec![("traceparent", "00-not-a-trace-01")]),
    ] {
        let r = send(Method::GET, &url(path), &headers, "", false)
            .await
            .unwrap();
        assert_eq!(r.status, StatusCode::OK);
    }
    // Flushes the publisher and waits until the log has everything.
    proxy.state.catch_up().await;

    let mut traces = HashMap::new();
    for p in 0..topics::CAPTURES.spec().unwrap().partitions {
        for r in log
            .read(topics::CAPTURES.name(), p, 0, 100, None)
            .await
            .unwrap()
        {
            let c: CaptureRecord = ghost_schema::decode(r.value.as_ref().unwrap()).unwrap();
            let t = TraceParent::of(&r.headers).expect("every capture record is traced");
            traces.insert(c.uri, t);
        }
    }
    assert_eq!(traces.len(), 3, "{traces:?}");
    let client = TraceParent::parse(CLIENT_TRACE.as_bytes()).unwrap();
    let continued = traces["/users/1"];
    assert_eq!(continued.trace_id, client.trace_id);
    assert_ne!(
        continued.span_id, client.span_id,
        "the capture is a new span"
    );
    for fresh in ["/users/2", "/users/3"] {
        assert_ne!(traces[fresh].trace_id, client.trace_id, "{fresh}");
    }
    assert_ne!(traces["/users/2"].trace_id, traces["/users/3"].trace_id);
    proxy.shutdown(std::time::Duration::from_secs(5)).await;
}
