//! Conversions between domain captures/modes and their Avro wire records.

use bytes::Bytes;
use ghost_model::{Capture, CaptureParts, HeaderPair, Mode, Redactor};
use ghost_schema::{CaptureRecord, HeaderRecord, ModeChangeRecord, ModeRecord};

fn header_records(headers: &[HeaderPair]) -> Vec<HeaderRecord> {
    headers
        .iter()
        .map(|h| HeaderRecord {
            name: h.name.clone(),
            value: h.value.to_vec(),
        })
        .collect()
}

fn header_pairs(headers: Vec<HeaderRecord>) -> Vec<HeaderPair> {
    headers
        .into_iter()
        .map(|h| HeaderPair {
            name: h.name,
            value: Bytes::from(h.value),
        })
        .collect()
}

/// The wire form of a (necessarily redacted) capture.
pub fn capture_to_record(c: &Capture) -> CaptureRecord {
    let p = c.parts();
    CaptureRecord {
        id: p.id.clone(),
        service: p.service.clone(),
        session_id: p.session_id.clone(),
        method: p.method.clone(),
        uri: p.uri.clone(),
        request_headers: header_records(&p.request_headers),
        request_body: p.request_body.to_vec(),
        status: i32::from(p.status),
        response_headers: header_records(&p.response_headers),
        response_body: p.response_body.to_vec(),
        started_at_us: p.started_at_us,
        duration_us: p.duration_us,
        upstream: p.upstream.clone(),
        http_version: p.http_version.clone(),
        body_truncated: p.body_truncated,
    }
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
