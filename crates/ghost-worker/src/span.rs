//! The OpenTelemetry span of a worker handling one record: a child of the
//! record's `traceparent`, with the ids its outputs carry, so every hop of a
//! capture (proxy → scrubber → later workers) is one trace.

use ghost_log::StoredRecord;
use ghost_log::trace::TraceParent;
use ghost_telemetry::{FinishedSpan, KeyValue, SpanIds, SpanKind};
use std::time::SystemTime;

/// A record being handled: its cause (the input's span) and the hop (the
/// handling span, which outputs continue).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Handling {
    pub cause: Option<TraceParent>,
    pub hop: TraceParent,
    start: Option<SystemTime>,
}

impl Handling {
    pub(crate) fn begin(record: &StoredRecord) -> Self {
        let cause = TraceParent::of(&record.headers);
        Self {
            cause,
            hop: cause.map_or_else(TraceParent::root, |c| c.child()),
            // Only read the clock when the span will be exported.
            start: ghost_telemetry::enabled().then(SystemTime::now),
        }
    }

    /// Exports the span (no-op while telemetry is off). `error`: why the record
    /// was dead-lettered.
    pub(crate) fn end(
        self,
        worker: &str,
        record: &StoredRecord,
        topic: &str,
        error: Option<String>,
    ) {
        let Some(start) = self.start else {
            return;
        };
        let outcome = if error.is_some() {
            "dead_lettered"
        } else {
            "ok"
        };
        ghost_telemetry::export(FinishedSpan {
            name: "ghost.worker.handle",
            kind: SpanKind::Consumer,
            ids: SpanIds {
                trace_id: self.hop.trace_id,
                span_id: self.hop.span_id,
                parent: self.cause.map(|c| c.span_id),
                flags: self.hop.flags,
            },
            start,
            end: SystemTime::now(),
            attributes: vec![
                KeyValue::new("ghost.worker", worker.to_owned()),
                KeyValue::new("ghost.outcome", outcome),
                KeyValue::new("messaging.destination.name", topic.to_owned()),
                KeyValue::new(
                    "messaging.destination.partition.id",
                    record.partition.to_string(),
                ),
                KeyValue::new("messaging.kafka.offset", record.offset as i64),
            ],
            error,
        });
    }
}
