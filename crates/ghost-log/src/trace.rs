//! W3C Trace Context (`traceparent`) for log records.
//!
//! Every record on the log carries a `traceparent` header so a capture can be
//! followed from the proxy through every worker that derives records from it.
//! Producers that know their cause set it (the proxy continues the client's
//! trace; workers continue the input record's); the log backends stamp a new
//! root on any record that arrives without one, so the guarantee does not depend
//! on every producer remembering.

use crate::record::{Header, Record};
use bytes::Bytes;

/// The header name, as W3C Trace Context spells it.
pub const TRACEPARENT: &str = "traceparent";

/// A parsed `traceparent`: version 00 layout, ids non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub flags: u8,
}

/// Lower-case hex digit values; 0xFF marks everything else (upper case is
/// invalid per the spec).
const UNHEX: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

fn hex_into(b: &[u8], out: &mut [u8]) -> Option<()> {
    if b.len() != out.len() * 2 {
        return None;
    }
    // Every record's trace is validated on append: a table lookup per digit,
    // one check per byte.
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        let (hi, lo) = (UNHEX[usize::from(pair[0])], UNHEX[usize::from(pair[1])]);
        if (hi | lo) & 0xF0 != 0 {
            return None;
        }
        *o = hi << 4 | lo;
    }
    Some(())
}

impl TraceParent {
    /// Parses a header value. Versions above 00 are read by their first four
    /// fields as the spec asks; `ff` and anything malformed are `None`.
    pub fn parse(value: &[u8]) -> Option<Self> {
        // Every version lays its first four fields out at the same offsets:
        // `vv-<32 hex>-<16 hex>-ff`, 55 bytes; later versions may append `-...`.
        let v = value.trim_ascii();
        if v.len() < 55 || v[2] != b'-' || v[35] != b'-' || v[52] != b'-' {
            return None;
        }
        let mut version = [0u8; 1];
        hex_into(&v[..2], &mut version)?;
        let extended = v.len() > 55;
        if version[0] == 0xff || (extended && (version[0] == 0 || v[55] != b'-')) {
            return None;
        }
        let mut tp = TraceParent {
            trace_id: [0; 16],
            span_id: [0; 8],
            flags: 0,
        };
        hex_into(&v[3..35], &mut tp.trace_id)?;
        hex_into(&v[36..52], &mut tp.span_id)?;
        let mut f = [0u8; 1];
        hex_into(&v[53..55], &mut f)?;
        tp.flags = f[0];
        if tp.trace_id == [0; 16] || tp.span_id == [0; 8] {
            return None;
        }
        Some(tp)
    }

    /// A new trace (sampled flag set: ghost records everything it sees).
    pub fn root() -> Self {
        let mut trace_id: [u8; 16] = rand::random();
        if trace_id == [0; 16] {
            trace_id[15] = 1;
        }
        TraceParent {
            trace_id,
            span_id: new_span_id(),
            flags: 0x01,
        }
    }

    /// The same trace, one hop further.
    pub fn child(&self) -> Self {
        TraceParent {
            span_id: new_span_id(),
            ..*self
        }
    }

    /// Continues the trace of `value` if it parses, else starts one.
    pub fn continue_or_root(value: Option<&[u8]>) -> Self {
        value
            .and_then(Self::parse)
            .map_or_else(Self::root, |p| p.child())
    }

    /// The header value, `00-<trace>-<span>-<flags>`.
    pub fn to_header_value(&self) -> String {
        String::from_utf8_lossy(&self.to_bytes()).into_owned()
    }

    /// The header value as its 55 bytes (written on every capture: no `fmt`).
    fn to_bytes(self) -> [u8; 55] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [b'-'; 55];
        out[0] = b'0';
        out[1] = b'0';
        let mut put = |at: usize, bytes: &[u8]| {
            for (i, b) in bytes.iter().enumerate() {
                out[at + 2 * i] = HEX[usize::from(b >> 4)];
                out[at + 2 * i + 1] = HEX[usize::from(b & 0x0f)];
            }
        };
        put(3, &self.trace_id);
        put(36, &self.span_id);
        put(53, &[self.flags]);
        out
    }

    /// As a record header.
    pub fn header(&self) -> Header {
        Header {
            name: TRACEPARENT.to_owned(),
            value: Bytes::copy_from_slice(&self.to_bytes()),
        }
    }

    /// The trace of a record, if it carries a valid one.
    pub fn of(headers: &[Header]) -> Option<Self> {
        headers
            .iter()
            .find(|h| h.name == TRACEPARENT)
            .and_then(|h| Self::parse(&h.value))
    }
}

fn new_span_id() -> [u8; 8] {
    let mut id: [u8; 8] = rand::random();
    if id == [0; 8] {
        id[7] = 1;
    }
    id
}

/// Gives a record derived from another (a worker's output) the span that
/// derived it, `hop` (a [`TraceParent::child`] of the input's; a new root when
/// the input had none), unless it carries a valid `traceparent` of its own.
/// The worker's exported span has the same ids, so the next hop hangs off it.
pub fn continue_trace(record: &mut Record, hop: Option<&TraceParent>) {
    if TraceParent::of(&record.headers).is_some() {
        return;
    }
    record.headers.retain(|h| h.name != TRACEPARENT);
    let span = hop.copied().unwrap_or_else(TraceParent::root);
    record.headers.push(span.header());
}

/// Gives a record's headers a new root trace unless they carry a valid
/// `traceparent` already (an invalid one is replaced: downstream tools choke on
/// garbage). Both backends call it on every append.
pub fn ensure_traceparent(headers: &mut Vec<Header>) {
    match headers.iter().position(|h| h.name == TRACEPARENT) {
        Some(i) if TraceParent::parse(&headers[i].value).is_some() => {}
        Some(i) => headers[i] = TraceParent::root().header(),
        None => headers.push(TraceParent::root().header()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn printing_matches_the_hex_format_and_parses_back() {
        for _ in 0..1000 {
            let tp = TraceParent::root().child();
            let mut expected = String::from("00-");
            for b in tp.trace_id {
                expected.push_str(&format!("{b:02x}"));
            }
            expected.push('-');
            for b in tp.span_id {
                expected.push_str(&format!("{b:02x}"));
            }
            expected.push_str(&format!("-{:02x}", tp.flags));
            assert_eq!(tp.to_header_value(), expected);
            assert_eq!(&tp.header().value[..], expected.as_bytes());
            assert_eq!(TraceParent::parse(expected.as_bytes()), Some(tp));
        }
    }

    #[test]
    fn parses_and_prints_the_spec_example() {
        let tp = TraceParent::parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(tp.flags, 1);
        assert_eq!(tp.to_header_value(), SAMPLE);
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "",
            "garbage",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
            "00-4bf92f3577b34da6a3ce929d0e0e47366-0f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        ] {
            assert!(TraceParent::parse(bad.as_bytes()).is_none(), "{bad}");
        }
        assert!(TraceParent::parse(&[0xff, 0xfe]).is_none());
    }

    #[test]
    fn future_versions_are_read_by_their_first_fields() {
        let v = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more";
        assert!(TraceParent::parse(v.as_bytes()).is_some());
    }

    #[test]
    fn child_keeps_the_trace_and_changes_the_span() {
        let parent = TraceParent::parse(SAMPLE.as_bytes()).unwrap();
        let child = parent.child();
        assert_eq!(child.trace_id, parent.trace_id);
        assert_ne!(child.span_id, parent.span_id);
        let fresh = TraceParent::continue_or_root(Some(b"nonsense"));
        assert_ne!(fresh.trace_id, parent.trace_id);
        assert_eq!(
            TraceParent::continue_or_root(Some(SAMPLE.as_bytes())).trace_id,
            parent.trace_id
        );
    }

    #[test]
    fn derived_records_continue_their_cause() {
        let cause = TraceParent::parse(SAMPLE.as_bytes()).unwrap();
        let mut r = Record::default();
        r.headers.push(Header {
            name: TRACEPARENT.into(),
            value: Bytes::from_static(b"junk"),
        });
        continue_trace(&mut r, Some(&cause.child()));
        let got = TraceParent::of(&r.headers).unwrap();
        assert_eq!(r.headers.len(), 1);
        assert_eq!(got.trace_id, cause.trace_id);
        assert_ne!(got.span_id, cause.span_id);
        // A record with its own valid trace keeps it.
        continue_trace(&mut r, Some(&TraceParent::root()));
        assert_eq!(TraceParent::of(&r.headers), Some(got));
    }

    #[test]
    fn ensure_adds_replaces_invalid_and_keeps_valid() {
        let mut r = Record::default();
        ensure_traceparent(&mut r.headers);
        assert!(TraceParent::of(&r.headers).is_some());
        let valid = r.headers.clone();
        ensure_traceparent(&mut r.headers);
        assert_eq!(r.headers, valid);
        r.headers[0].value = Bytes::from_static(b"junk");
        ensure_traceparent(&mut r.headers);
        assert_eq!(r.headers.len(), 1);
        assert!(TraceParent::of(&r.headers).is_some());
    }
}
