//! OpenTelemetry: with `--otlp URL`, ghost exports spans over OTLP/HTTP. One
//! client request in LEARN makes one trace, continuing the client's
//! `traceparent`: the proxied request, its upstream call (whose span the
//! upstream receives as its parent), the capture's log append, and the
//! scrubber's handling of that capture record, each the child of the one before.
//! An OTLP/HTTP receiver inside the test decodes the protobuf exports.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_test_util::otlp::{OtlpReceiver, ReceivedSpan};
use ghost_test_util::{Ghost, Peer, PeerKind, send};
use http::{Method, StatusCode};
use std::path::Path;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ghost");
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";

fn find<'a>(spans: &'a [ReceivedSpan], name: &str, trace: &str) -> Vec<&'a ReceivedSpan> {
    spans
        .iter()
        .filter(|s| s.name == name && s.trace_id == trace)
        .collect()
}

#[tokio::test]
async fn one_trace_from_the_client_through_the_scrubber() {
    let receiver = OtlpReceiver::start().await;
    let peer = Peer::start(PeerKind::Python).await;
    let dir = tempfile::tempdir().unwrap();
    let g = Ghost::start_with_env(
        Path::new(BIN),
        dir.path(),
        &["--upstream", &peer.url(), "--otlp", &receiver.url()],
        // Export batches every 100 ms instead of every 5 s.
        &[("OTEL_BSP_SCHEDULE_DELAY", "100")],
    )
    .await;

    let traceparent = format!("00-{TRACE}-{CLIENT_SPAN}-01");
    let r = send(
        Method::POST,
        &g.proxy_url("/echo?x=1"),
        &[
            ("traceparent", &traceparent),
            ("content-type", "text/plain"),
        ],
        "traced body",
        false,
    )
    .await
    .unwrap();
    assert_eq!(r.status, StatusCode::OK);

    let spans = receiver
        .wait_for(Duration::from_secs(30), |s| {
            [
                "ghost.proxy.request",
                "ghost.proxy.upstream",
                "ghost.capture.append",
                "ghost.worker.handle",
            ]
            .iter()
            .all(|n| !find(s, n, TRACE).is_empty())
        })
        .await;
    let one = |name: &str| {
        let found = find(&spans, name, TRACE);
        assert_eq!(found.len(), 1, "{name}: {found:#?}");
        found[0].clone()
    };
    let request = one("ghost.proxy.request");
    let upstream = one("ghost.proxy.upstream");
    let append = one("ghost.capture.append");
    let scrub = one("ghost.worker.handle");

    assert_eq!(
        request.parent_span_id, CLIENT_SPAN,
        "continues the client's span"
    );
    assert_eq!(request.kind, 2, "server span");
    assert_eq!(request.service, "ghost");
    for (k, v) in [
        ("ghost.service", "default"),
        ("ghost.mode", "LEARN"),
        ("ghost.match", "learn"),
        ("http.request.method", "POST"),
        ("url.path", "/echo"),
        ("http.response.status_code", "200"),
        ("http.response.body.size", "11"),
    ] {
        assert_eq!(
            request.attributes.get(k).map(String::as_str),
            Some(v),
            "{k}: {request:#?}"
        );
    }
    assert_eq!(upstream.parent_span_id, request.span_id);
    assert_eq!(upstream.kind, 3, "client span");
    assert_eq!(upstream.attributes["http.response.status_code"], "200");
    // The upstream saw the upstream call's span as its parent.
    assert_eq!(
        r.header("x-echo-traceparent"),
        Some(format!("00-{TRACE}-{}-01", upstream.span_id).as_str())
    );
    assert_eq!(append.parent_span_id, request.span_id);
    assert_eq!(
        append.attributes["messaging.destination.name"],
        "ghost.captures.v1"
    );
    assert_eq!(
        scrub.parent_span_id, append.span_id,
        "the scrubber continues the capture record's span"
    );
    assert_eq!(scrub.attributes["ghost.outcome"], "ok");
    assert_eq!(
        scrub.attributes["messaging.destination.name"],
        "ghost.captures.v1"
    );
    assert!(request.start_ns <= upstream.start_ns && upstream.end_ns <= request.end_ns);

    // MOCK answers are traced too, tagged with the cascade stage.
    g.set_mode("MOCK", None).await;
    let mocked = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let r = send(
        Method::POST,
        &g.proxy_url("/echo?x=1"),
        &[("traceparent", mocked), ("content-type", "text/plain")],
        "traced body",
        false,
    )
    .await
    .unwrap();
    assert_eq!(r.header("x-ghost-mock"), Some("exact"));
    let spans = receiver
        .wait_for(Duration::from_secs(30), |s| {
            !find(s, "ghost.proxy.request", "0af7651916cd43dd8448eb211c80319c").is_empty()
        })
        .await;
    let m = find(
        &spans,
        "ghost.proxy.request",
        "0af7651916cd43dd8448eb211c80319c",
    )[0];
    assert_eq!(m.attributes["ghost.mode"], "MOCK");
    assert_eq!(m.attributes["ghost.match"], "exact");
    assert!(
        find(
            &spans,
            "ghost.proxy.upstream",
            "0af7651916cd43dd8448eb211c80319c"
        )
        .is_empty()
    );
    g.stop().await;
}
