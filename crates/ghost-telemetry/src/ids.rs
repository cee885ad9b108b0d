//! Span ids chosen by ghost rather than by the SDK.
//!
//! The SDK's span builder takes no ids; it asks its `IdGenerator`. This one
//! hands out the ids [`with_chosen`] set for the span being started on this
//! thread (starting a span is synchronous), and random ones otherwise.

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};
use std::cell::Cell;

thread_local! {
    static CHOSEN: Cell<Option<([u8; 16], [u8; 8])>> = const { Cell::new(None) };
}

/// Runs `start` (which starts one span) with the given trace and span ids.
pub(crate) fn with_chosen<T>(trace_id: [u8; 16], span_id: [u8; 8], start: impl FnOnce() -> T) -> T {
    CHOSEN.with(|c| c.set(Some((trace_id, span_id))));
    let out = start();
    CHOSEN.with(|c| c.set(None));
    out
}

#[derive(Debug, Default)]
pub(crate) struct ChosenIds {
    random: RandomIdGenerator,
}

impl IdGenerator for ChosenIds {
    fn new_trace_id(&self) -> TraceId {
        match CHOSEN.with(Cell::get) {
            Some((t, _)) => TraceId::from_bytes(t),
            None => self.random.new_trace_id(),
        }
    }

    fn new_span_id(&self) -> SpanId {
        match CHOSEN.with(Cell::get) {
            Some((_, s)) => SpanId::from_bytes(s),
            None => self.random.new_span_id(),
        }
    }
}
