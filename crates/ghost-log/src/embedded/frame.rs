//! Record framing inside a segment file, as pure functions over byte slices.
//!
//! A frame is a fixed 9-byte header followed by the body, all little-endian:
//!
//! ```text
//! [magic u8][crc32 u32 over the bytes after it][body length u32]
//! body: offset u64, timestamp i64,
//!       key:   present u8 (0|1) [, length u32, bytes]
//!       value: present u8 (0|1) [, length u32, bytes]   (absent = tombstone)
//!       header count u32, then per header: name length u32, name (UTF-8),
//!                                           value length u32, value
//! ```
//!
//! The CRC covers the length field too, so a flipped length bit is caught rather than
//! sending the reader off to a random place. Every length is checked against the bytes
//! actually present before anything is allocated.

use crate::{Header, Record, StoredRecord};
use bytes::Bytes;

/// Identifies format version 1; never zero so a zero-filled tail (what a filesystem
/// may leave after a crash that extended the file) is never mistaken for a frame.
pub(crate) const MAGIC: u8 = 0xA7;
pub(crate) const HEADER_LEN: usize = 9;

/// Why bytes do not hold a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// The frame is cut short: `needed` bytes in total are required to decide.
    Incomplete { needed: usize },
    /// The bytes are not a valid frame (bad magic, CRC, or structure).
    Invalid(String),
}

/// The encoded body length of `record`: what `max_record_bytes` limits.
pub(crate) fn body_len(record: &Record) -> usize {
    let opt = |b: &Option<Bytes>| 1 + b.as_ref().map_or(0, |b| 4 + b.len());
    let headers: usize = record
        .headers
        .iter()
        .map(|h| 8 + h.name.len() + h.value.len())
        .sum();
    16 + opt(&record.key) + opt(&record.value) + 4 + headers
}

/// Appends the frame of `record` at `offset` to `out`. The caller has checked
/// `body_len(record)` against the record limit (which is at most `u32::MAX`), so
/// every length fits its `u32` field.
pub(crate) fn encode(offset: u64, record: &Record, out: &mut Vec<u8>) {
    let start = out.len();
    let body = body_len(record);
    out.reserve(HEADER_LEN + body);
    out.push(MAGIC);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&len32(body));
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&record.timestamp_ms.to_le_bytes());
    for part in [&record.key, &record.value] {
        match part {
            Some(b) => {
                out.push(1);
                out.extend_from_slice(&len32(b.len()));
                out.extend_from_slice(b);
            }
            None => out.push(0),
        }
    }
    out.extend_from_slice(&len32(record.headers.len()));
    for h in &record.headers {
        out.extend_from_slice(&len32(h.name.len()));
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(&len32(h.value.len()));
        out.extend_from_slice(&h.value);
    }
    let crc = crc32fast::hash(&out[start + 5..]);
    out[start + 1..start + 5].copy_from_slice(&crc.to_le_bytes());
}

fn len32(n: usize) -> [u8; 4] {
    u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes()
}

/// Reads the header at the start of `buf` and returns the whole frame's length.
pub(crate) fn frame_len(buf: &[u8], max_body: usize) -> Result<usize, FrameError> {
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Err(FrameError::Incomplete { needed: HEADER_LEN });
    };
    if header[0] != MAGIC {
        return Err(FrameError::Invalid(format!(
            "bad magic byte {:#04x}",
            header[0]
        )));
    }
    let body = u32::from_le_bytes([header[5], header[6], header[7], header[8]]) as usize;
    if body > max_body {
        return Err(FrameError::Invalid(format!(
            "record length {body} exceeds the limit of {max_body}"
        )));
    }
    Ok(HEADER_LEN + body)
}

/// Decodes the frame at the start of `buf`, returning the record (tagged with
/// `partition`) and the frame's length.
pub(crate) fn decode(
    buf: &[u8],
    partition: u32,
    max_body: usize,
) -> Result<(StoredRecord, usize), FrameError> {
    let len = frame_len(buf, max_body)?;
    let Some(frame) = buf.get(..len) else {
        return Err(FrameError::Incomplete { needed: len });
    };
    let stored = u32::from_le_bytes([frame[1], frame[2], frame[3], frame[4]]);
    let actual = crc32fast::hash(&frame[5..]);
    if stored != actual {
        return Err(FrameError::Invalid(format!(
            "crc mismatch: stored {stored:#010x}, computed {actual:#010x}"
        )));
    }
    let mut body = Cursor(&frame[HEADER_LEN..]);
    let offset = body.u64()?;
    let timestamp_ms = body.u64()? as i64;
    let key = body.optional()?;
    let value = body.optional()?;
    let count = body.u32()? as usize;
    // Each header takes at least 8 bytes, so this bounds the allocation by the body.
    if count > body.0.len() / 8 {
        return Err(invalid("header count larger than the record"));
    }
    let mut headers = Vec::with_capacity(count);
    for _ in 0..count {
        let name = body.bytes()?;
        let name = std::str::from_utf8(name)
            .map_err(|_| invalid("header name is not UTF-8"))?
            .to_owned();
        let value = Bytes::copy_from_slice(body.bytes()?);
        headers.push(Header { name, value });
    }
    if !body.0.is_empty() {
        return Err(invalid("trailing bytes after the record body"));
    }
    let record = StoredRecord {
        partition,
        offset,
        key,
        value,
        headers,
        timestamp_ms,
    };
    Ok((record, len))
}

fn invalid(what: &str) -> FrameError {
    FrameError::Invalid(what.to_owned())
}

/// Reads fields off the front of a CRC-checked body. A CRC-valid body that does not
/// parse means a writer bug or a different format, so every failure is `Invalid`.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FrameError> {
        if n > self.0.len() {
            return Err(invalid("field runs past the end of the record"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, FrameError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, FrameError> {
        let b = self.take(8)?;
        let mut a = [0; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn bytes(&mut self) -> Result<&'a [u8], FrameError> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    fn optional(&mut self) -> Result<Option<Bytes>, FrameError> {
        match self.take(1)?[0] {
            0 => Ok(None),
            1 => Ok(Some(Bytes::copy_from_slice(self.bytes()?))),
            other => Err(FrameError::Invalid(format!("bad presence flag {other}"))),
        }
    }
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
