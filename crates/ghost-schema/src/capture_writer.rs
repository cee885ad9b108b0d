//! A direct writer for the hottest record: `dev.ghost.Capture`, latest version,
//! from borrowed parts.
//!
//! Every LEARN request produces one capture. The generic path (copy the capture
//! into a [`CaptureRecord`](crate::CaptureRecord), then apache-avro's serde
//! serializer) was ~7% of the proxy's CPU per LEARN request; this writes the same
//! bytes straight from the caller's borrowed fields, into one buffer sized up front.
//! The tests compare it byte for byte with [`encode`](crate::encode) on varied
//! records, and refuse a newer Capture schema until this writer follows it.

use crate::contract::Subject;
use crate::error::SchemaError;
use crate::registry::registry;

/// The Capture schema version this writer produces.
pub const CAPTURE_WRITER_VERSION: u32 = 4;

/// The scalar and body fields of a capture, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct CaptureFields<'a> {
    pub id: &'a str,
    pub service: &'a str,
    pub session_id: &'a str,
    pub method: &'a str,
    pub uri: &'a str,
    pub request_body: &'a [u8],
    pub status: i32,
    pub response_body: &'a [u8],
    pub started_at_us: i64,
    pub duration_us: i64,
    pub upstream: &'a str,
    pub http_version: &'a str,
    pub body_truncated: bool,
    /// The HTTP version spoken to the upstream (v3; empty when unknown).
    pub upstream_http_version: &'a str,
    /// The service's tenant (v4).
    pub tenant: &'a str,
}

fn put_long(out: &mut Vec<u8>, n: i64) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_long(out, b.len() as i64);
    out.extend_from_slice(b);
}

/// An Avro array of `Header { name: string, value: bytes }`: one block, then the
/// empty block that ends it.
fn put_headers<'h>(out: &mut Vec<u8>, headers: impl ExactSizeIterator<Item = (&'h str, &'h [u8])>) {
    if headers.len() > 0 {
        put_long(out, headers.len() as i64);
        for (name, value) in headers {
            put_bytes(out, name.as_bytes());
            put_bytes(out, value);
        }
    }
    out.push(0);
}

/// Encodes a capture exactly as [`encode`](crate::encode) would encode the
/// equivalent [`CaptureRecord`](crate::CaptureRecord), in single-object encoding.
///
/// # Errors
/// [`SchemaError::InvalidSchema`] if the embedded schemas are bad, and
/// [`SchemaError::Encode`] if the latest Capture schema is not the version this
/// writer knows (a build that added a version without updating the writer).
pub fn encode_capture<'h, R, S>(
    f: &CaptureFields<'_>,
    request_headers: R,
    response_headers: S,
) -> Result<Vec<u8>, SchemaError>
where
    R: ExactSizeIterator<Item = (&'h str, &'h [u8])> + Clone,
    S: ExactSizeIterator<Item = (&'h str, &'h [u8])> + Clone,
{
    let latest = registry()?
        .latest(Subject::Capture)
        .ok_or(SchemaError::UnknownVersion {
            subject: Subject::Capture,
            version: CAPTURE_WRITER_VERSION,
        })?;
    if latest.id.version != CAPTURE_WRITER_VERSION {
        return Err(SchemaError::Encode(format!(
            "the capture writer produces v{CAPTURE_WRITER_VERSION} but the latest Capture schema is v{}",
            latest.id.version
        )));
    }
    let header_bytes = |h: &mut dyn Iterator<Item = (&'h str, &'h [u8])>| {
        h.map(|(n, v)| n.len() + v.len() + 20).sum::<usize>()
    };
    let strings = [
        f.id,
        f.service,
        f.session_id,
        f.method,
        f.uri,
        f.upstream,
        f.http_version,
        f.upstream_http_version,
        f.tenant,
    ];
    let size = crate::codec::HEADER_LEN
        + strings.iter().map(|s| s.len() + 10).sum::<usize>()
        + f.request_body.len()
        + f.response_body.len()
        + header_bytes(&mut request_headers.clone())
        + header_bytes(&mut response_headers.clone())
        + 64;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&crate::codec::MAGIC);
    out.extend_from_slice(&latest.fingerprint.to_le_bytes());
    for s in &strings[..5] {
        put_bytes(&mut out, s.as_bytes());
    }
    put_headers(&mut out, request_headers);
    put_bytes(&mut out, f.request_body);
    put_long(&mut out, i64::from(f.status));
    put_headers(&mut out, response_headers);
    put_bytes(&mut out, f.response_body);
    put_long(&mut out, f.started_at_us);
    put_long(&mut out, f.duration_us);
    put_bytes(&mut out, f.upstream.as_bytes());
    put_bytes(&mut out, f.http_version.as_bytes());
    out.push(u8::from(f.body_truncated));
    put_bytes(&mut out, f.upstream_http_version.as_bytes());
    put_bytes(&mut out, f.tenant.as_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CaptureRecord, HeaderRecord, decode, encode};

    fn record(seed: u64) -> CaptureRecord {
        // Deterministic variety: lengths that cross varint boundaries, negative and
        // large numbers, empty and non-empty header lists, non-UTF-8 header values.
        let n = |k: u64| (seed.wrapping_mul(6364136223846793005).wrapping_add(k) >> 33) as usize;
        let s = |k: u64, len: usize| "é-x".repeat(len / 4 + n(k) % 3);
        let headers = |k: u64| -> Vec<HeaderRecord> {
            (0..n(k) % 5)
                .map(|i| HeaderRecord {
                    name: format!("x-h{i}"),
                    value: (0..n(k + i as u64) % 200).map(|b| b as u8).collect(),
                })
                .collect()
        };
        CaptureRecord {
            id: s(1, 36),
            service: s(2, 7),
            session_id: s(3, 20),
            method: "PATCH".into(),
            uri: s(4, 300),
            request_headers: headers(5),
            request_body: vec![0xff; n(6) % 70_000],
            status: [200, 0, -1, 599, i32::MAX, i32::MIN][n(7) % 6],
            response_headers: headers(8),
            response_body: vec![7; n(9) % 20_000],
            started_at_us: [0, 1, -1, 1_700_000_000_000_000, i64::MAX, i64::MIN][n(10) % 6],
            duration_us: n(11) as i64 - 1_000,
            upstream: s(12, 30),
            http_version: "HTTP/1.1".into(),
            body_truncated: n(13) % 2 == 0,
            upstream_http_version: ["", "HTTP/1.1", "HTTP/2"][n(14) % 3].into(),
            tenant: ["default", "acme", "t\u{e9}nant-9"][n(15) % 3].into(),
        }
    }

    fn direct(r: &CaptureRecord) -> Vec<u8> {
        let fields = CaptureFields {
            id: &r.id,
            service: &r.service,
            session_id: &r.session_id,
            method: &r.method,
            uri: &r.uri,
            request_body: &r.request_body,
            status: r.status,
            response_body: &r.response_body,
            started_at_us: r.started_at_us,
            duration_us: r.duration_us,
            upstream: &r.upstream,
            http_version: &r.http_version,
            body_truncated: r.body_truncated,
            upstream_http_version: &r.upstream_http_version,
            tenant: &r.tenant,
        };
        fn hs(h: &[HeaderRecord]) -> Vec<(&str, &[u8])> {
            h.iter()
                .map(|h| (h.name.as_str(), h.value.as_slice()))
                .collect()
        }
        let (req, resp) = (hs(&r.request_headers), hs(&r.response_headers));
        encode_capture(&fields, req.iter().copied(), resp.iter().copied()).unwrap()
    }

    #[test]
    fn matches_the_generic_encoder_byte_for_byte() {
        for seed in 0..300 {
            let r = record(seed);
            let bytes = direct(&r);
            assert_eq!(bytes, encode(&r).unwrap(), "seed {seed}");
            assert_eq!(decode::<CaptureRecord>(&bytes).unwrap(), r, "seed {seed}");
        }
    }

    #[test]
    fn writer_follows_the_latest_capture_schema() {
        let latest = registry().unwrap().latest(Subject::Capture).unwrap();
        assert_eq!(
            latest.id.version, CAPTURE_WRITER_VERSION,
            "a new Capture schema version needs capture_writer.rs updated"
        );
    }
}
