//! Deciding how to scrub a body from its content type (or, without one, its bytes).

use std::borrow::Cow;

/// How a body is scrubbed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// Parse, walk, re-serialize; falls back to `Text` when parsing fails.
    Json,
    /// `application/x-www-form-urlencoded`: key-aware like a query string.
    Form,
    /// Regex pass over every valid UTF-8 run; invalid bytes are kept as they are.
    Text,
    /// Left untouched: images, archives, protobuf, anything not text.
    Binary,
}

/// Classifies by media type; with none (or an unknown one), by sniffing.
pub(crate) fn classify(content_type: Option<&str>, body: &[u8]) -> BodyKind {
    let mime = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    match mime.as_deref() {
        Some(m) if m.ends_with("ndjson") || m.ends_with("jsonl") || m.ends_with("json-seq") => {
            BodyKind::Text
        }
        Some(m) if m.ends_with("/json") || m.ends_with("+json") => BodyKind::Json,
        Some("application/x-www-form-urlencoded") => BodyKind::Form,
        Some(m) if is_textual(m) => BodyKind::Text,
        Some(m) if is_binary(m) => BodyKind::Binary,
        _ => sniff(body),
    }
}

fn is_textual(m: &str) -> bool {
    m.starts_with("text/")
        || m.ends_with("/xml")
        || m.ends_with("+xml")
        || m.ends_with("javascript")
        || m.ends_with("graphql")
        || m.ends_with("yaml")
        || m.ends_with("csv")
}

fn is_binary(m: &str) -> bool {
    m.starts_with("image/")
        || m.starts_with("audio/")
        || m.starts_with("video/")
        || m.starts_with("font/")
        || m.ends_with("octet-stream")
        || m.ends_with("protobuf")
        || m.ends_with("grpc")
        || m.ends_with("zip")
        || m.ends_with("gzip")
        || m.ends_with("pdf")
        || m.ends_with("avro")
}

/// UTF-8 that starts like JSON is tried as JSON; other UTF-8 is text; anything
/// else is binary, because scrubbing random bytes can only corrupt them.
fn sniff(body: &[u8]) -> BodyKind {
    match std::str::from_utf8(body) {
        Ok(s) if s.trim_start().starts_with(['{', '[']) => BodyKind::Json,
        Ok(_) => BodyKind::Text,
        Err(_) => BodyKind::Binary,
    }
}

/// Applies `scrub` to each valid UTF-8 run of `body`, so a Latin-1 byte in a
/// `text/plain` body does not stop the rest from being scrubbed. `None` when no
/// run changed.
pub(crate) fn scrub_utf8_runs(
    body: &[u8],
    mut scrub: impl FnMut(&str) -> Cow<'_, str>,
) -> Option<Vec<u8>> {
    if let Ok(s) = std::str::from_utf8(body) {
        return match scrub(s) {
            Cow::Owned(new) => Some(new.into_bytes()),
            Cow::Borrowed(_) => None,
        };
    }
    let mut out = Vec::with_capacity(body.len());
    let mut changed = false;
    for chunk in body.utf8_chunks() {
        match scrub(chunk.valid()) {
            Cow::Owned(new) => {
                changed = true;
                out.extend_from_slice(new.as_bytes());
            }
            Cow::Borrowed(same) => out.extend_from_slice(same.as_bytes()),
        }
        out.extend_from_slice(chunk.invalid());
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_common_types() {
        assert_eq!(
            classify(Some("application/json; charset=utf-8"), b""),
            BodyKind::Json
        );
        assert_eq!(
            classify(Some("application/problem+json"), b""),
            BodyKind::Json
        );
        assert_eq!(classify(Some("application/x-ndjson"), b""), BodyKind::Text);
        assert_eq!(
            classify(Some("application/x-www-form-urlencoded"), b""),
            BodyKind::Form
        );
        assert_eq!(classify(Some("text/html"), b""), BodyKind::Text);
        assert_eq!(classify(Some("image/png"), b"{"), BodyKind::Binary);
        assert_eq!(classify(None, b"  {\"a\":1}"), BodyKind::Json);
        assert_eq!(classify(None, b"hello"), BodyKind::Text);
        assert_eq!(classify(None, &[0xff, 0xfe, 0x00]), BodyKind::Binary);
    }
}
