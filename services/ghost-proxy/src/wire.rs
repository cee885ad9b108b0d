//! Conversions between domain captures/modes and their Avro wire records.

use bytes::Bytes;
use ghost_model::{Capture, CaptureParts, HeaderPair, Mode, Redactor};
use ghost_schema::{CaptureRecord, HeaderRecord, ModeChangeRecord, ModeRecord};

fn header_pairs(headers: Vec<HeaderRecord>) -> Vec<HeaderPair> {
    headers
        .into_iter()
        .map(|h| HeaderPair {
            name: h.name,
            value: Bytes::from(h.value),
        })
        .collect()
}

/// The wire bytes of a (necessarily redacted) capture, written straight from
/// its borrowed parts (byte for byte what `ghost_schema::encode` gives for the
/// equivalent `CaptureRecord`).
pub fn capture_bytes(c: &Capture) -> Result<Vec<u8>, ghost_schema::SchemaError> {
    let p = c.parts();
    let fields = ghost_schema::CaptureFields {
        id: &p.id,
        service: &p.service,
        session_id: &p.session_id,
        method: &p.method,
        uri: &p.uri,
        request_body: &p.request_body,
        status: i32::from(p.status),
        response_body: &p.response_body,
        started_at_us: p.started_at_us,
        duration_us: p.duration_us,
        upstream: &p.upstream,
        http_version: &p.http_version,
        body_truncated: p.body_truncated,
        upstream_http_version: &p.upstream_http_version,
        tenant: &p.tenant,
    };
    fn pairs(h: &[HeaderPair]) -> impl ExactSizeIterator<Item = (&str, &[u8])> + Clone {
        h.iter().map(|h| (h.name.as_str(), &h.value[..]))
    }
    ghost_schema::encode_capture(
        &fields,
        pairs(&p.request_headers),
        pairs(&p.response_headers),
    )
}

/// A capture read back from the log. It goes through the redactor again: a log
/// written by an older build (or by hand) can never smuggle a credential in.
pub fn record_to_capture(r: CaptureRecord, redactor: &Redactor) -> Capture {
    redactor.capture(CaptureParts {
        id: r.id,
        service: r.service,
        session_id: r.session_id,
        method: r.method,
        uri: r.uri,
        request_headers: header_pairs(r.request_headers),
        request_body: Bytes::from(r.request_body),
        status: u16::try_from(r.status).unwrap_or(0),
        response_headers: header_pairs(r.response_headers),
        response_body: Bytes::from(r.response_body),
        started_at_us: r.started_at_us,
        duration_us: r.duration_us,
        upstream: r.upstream,
        http_version: r.http_version,
        body_truncated: r.body_truncated,
        upstream_http_version: r.upstream_http_version,
        tenant: r.tenant,
    })
}

pub fn mode_from_record(m: ModeRecord) -> Mode {
    match m {
        ModeRecord::Learn => Mode::Learn,
        ModeRecord::Mock => Mode::Mock,
        ModeRecord::Passthrough => Mode::Passthrough,
    }
}

/// The wire form of a user-settable mode (`None` for TRANSITIONING).
pub fn mode_to_record(m: Mode) -> Option<ModeRecord> {
    match m {
        Mode::Learn => Some(ModeRecord::Learn),
        Mode::Mock => Some(ModeRecord::Mock),
        Mode::Passthrough => Some(ModeRecord::Passthrough),
        Mode::Transitioning => None,
    }
}

/// The barrier of a mode record as (partition, next offset) pairs.
pub fn barrier(r: &ModeChangeRecord) -> Vec<(u32, u64)> {
    r.barrier
        .iter()
        .filter_map(|b| {
            Some((
                u32::try_from(b.partition).ok()?,
                u64::try_from(b.offset).ok()?,
            ))
        })
        .collect()
}
