//! OpenTelemetry spans of the request path: the proxied request, its upstream
//! call and the log append of its capture. Built only while
//! `ghost_telemetry::enabled()`; otherwise nothing here runs.
//!
//! Ids follow the records' `traceparent`s: the request span continues the
//! client's trace (or starts one), the upstream call and the append are its
//! children, and the capture record carries the append span, so the scrubber's
//! span (a child of the record's) lands in the same trace.

use ghost_log::trace::TraceParent;
use ghost_log::{Ack, LogError};
use ghost_telemetry::{FinishedSpan, KeyValue, SpanIds, SpanKind};
use std::time::SystemTime;

/// The span of one proxied request, opened when the request arrived.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestSpan {
    /// The request span itself (trace id, span id, flags).
    pub ids: TraceParent,
    /// The client's span, when it sent a valid `traceparent`.
    parent: Option<[u8; 8]>,
    start: SystemTime,
}

impl RequestSpan {
    /// `client`: the request's `traceparent` header, if any.
    pub(crate) fn begin(client: Option<&[u8]>) -> Self {
        let given = client.and_then(TraceParent::parse);
        Self {
            ids: given.map_or_else(TraceParent::root, |p| p.child()),
            parent: given.map(|p| p.span_id),
            start: SystemTime::now(),
        }
    }

    fn span_ids(ids: TraceParent, parent: Option<[u8; 8]>) -> SpanIds {
        SpanIds {
            trace_id: ids.trace_id,
            span_id: ids.span_id,
            parent,
            flags: ids.flags,
        }
    }

    /// Exports the request span, ending now.
    pub(crate) fn end(self, attributes: Vec<KeyValue>, error: Option<String>) {
        ghost_telemetry::export(FinishedSpan {
            name: "ghost.proxy.request",
            kind: SpanKind::Server,
            ids: Self::span_ids(self.ids, self.parent),
            start: self.start,
            end: SystemTime::now(),
            attributes,
            error,
        });
    }

    /// Exports the upstream call `call` (a child of this span) that began at `start`.
    pub(crate) fn upstream(
        &self,
        call: TraceParent,
        start: SystemTime,
        upstream: &str,
        outcome: Result<u16, &str>,
    ) {
        let mut attributes = vec![KeyValue::new("url.full", upstream.to_owned())];
        let error = match outcome {
            Ok(status) => {
                attributes.push(KeyValue::new(
                    "http.response.status_code",
                    i64::from(status),
                ));
                None
            }
            Err(e) => Some(e.to_owned()),
        };
        ghost_telemetry::export(FinishedSpan {
            name: "ghost.proxy.upstream",
            kind: SpanKind::Client,
            ids: Self::span_ids(call, Some(self.ids.span_id)),
            start,
            end: SystemTime::now(),
            attributes,
            error,
        });
    }

    /// What the capture's append span needs to be exported once acknowledged.
    pub(crate) fn append(&self) -> AppendSpan {
        AppendSpan {
            parent: self.ids.span_id,
            queued: SystemTime::now(),
        }
    }
}

/// The pending span of a capture's log append: from queueing to acknowledgement.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AppendSpan {
    parent: [u8; 8],
    queued: SystemTime,
}

impl AppendSpan {
    /// Exports it; `record` is the capture record's own `traceparent` (this span).
    pub(crate) fn end(self, record: TraceParent, topic: &str, result: Result<&Ack, &LogError>) {
        let mut attributes = vec![KeyValue::new(
            "messaging.destination.name",
            topic.to_owned(),
        )];
        let error = match result {
            Ok(ack) => {
                attributes.push(KeyValue::new(
                    "messaging.destination.partition.id",
                    ack.partition.to_string(),
                ));
                attributes.push(KeyValue::new("messaging.kafka.offset", ack.offset as i64));
                None
            }
            Err(e) => Some(e.to_string()),
        };
        ghost_telemetry::export(FinishedSpan {
            name: "ghost.capture.append",
            kind: SpanKind::Producer,
            ids: RequestSpan::span_ids(record, Some(self.parent)),
            start: self.queued,
            end: SystemTime::now(),
            attributes,
            error,
        });
    }
}

/// The trace a capture travels with: the `traceparent` its record carries and,
/// while telemetry is on, the append span to export when the log acknowledges it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CaptureTrace {
    pub record: TraceParent,
    pub span: Option<AppendSpan>,
}

impl CaptureTrace {
    /// For a LEARN request: continues `request`'s span when telemetry is on,
    /// else the client's trace (`client`: its `traceparent`), else a new one.
    pub(crate) fn new(request: Option<&RequestSpan>, client: Option<&[u8]>) -> Self {
        match request {
            Some(r) => Self {
                record: r.ids.child(),
                span: Some(r.append()),
            },
            None => Self {
                record: TraceParent::continue_or_root(client),
                span: None,
            },
        }
    }
}
