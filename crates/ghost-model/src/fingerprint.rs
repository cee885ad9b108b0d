//! Request normalization and fingerprints for exact matching.
//!
//! Two requests are "the same" for exact matching when their service, method,
//! normalized path, normalized query and body fingerprint agree:
//! - path: percent-encoded unreserved characters are decoded and the remaining
//!   escapes upper-cased (RFC 3986 §6.2.2), so `/a%7Eb` = `/a~b`;
//! - query: pairs are percent- and `+`-decoded and sorted, so parameter order and
//!   encoding choices don't matter (`a` and `a=` are the same pair);
//! - body: JSON bodies are hashed in canonical form (keys sorted, no whitespace),
//!   so key order doesn't matter; anything else is hashed byte for byte.
//!
//! The hot path (no `%`, no query) hashes borrowed slices without allocating.

use std::borrow::Cow;
use xxhash_rust::xxh3::{Xxh3, xxh3_128};

/// The exact-match key of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestKey(pub u128);

/// Fingerprint of a request body: 0 for an empty body.
pub fn body_fingerprint(body: &[u8]) -> u128 {
    if body.is_empty() {
        return 0;
    }
    if looks_like_json(body) {
        // serde_json's map is a BTreeMap: serializing a parsed value sorts keys.
        let canonical = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| serde_json::to_vec(&v).ok());
        if let Some(canonical) = canonical {
            return xxh3_128(&canonical) | 1;
        }
    }
    xxh3_128(body) | 1
}

fn looks_like_json(body: &[u8]) -> bool {
    matches!(
        body.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{') | Some(b'[')
    )
}

/// The exact-match key of a request with an already computed body fingerprint.
pub fn request_key(service: &str, method: &str, path_and_query: &str, body_fp: u128) -> RequestKey {
    let (path, query) = split_query(path_and_query);
    let mut h = Xxh3::new();
    h.update(service.as_bytes());
    h.update(&[0]);
    h.update(method.as_bytes());
    h.update(&[0]);
    h.update(normalize_path(path).as_bytes());
    h.update(&[0]);
    if let Some(q) = query {
        for (k, v) in normalized_query_pairs(q) {
            h.update(&k);
            h.update(&[1]);
            h.update(&v);
            h.update(&[2]);
        }
    }
    h.update(&[0]);
    h.update(&body_fp.to_le_bytes());
    RequestKey(h.digest128())
}

/// Splits `path?query` (a missing or empty path is `/`).
pub fn split_query(path_and_query: &str) -> (&str, Option<&str>) {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let path = if path.is_empty() { "/" } else { path };
    (path, query.filter(|q| !q.is_empty()))
}

/// Decodes escaped unreserved characters and upper-cases the other escapes.
pub fn normalize_path(path: &str) -> Cow<'_, str> {
    if !path.contains('%') {
        return Cow::Borrowed(path);
    }
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if let Some(c) = escape_at(bytes, i) {
            if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(c));
            } else {
                out.push('%');
                out.push(char::from(bytes[i + 1].to_ascii_uppercase()));
                out.push(char::from(bytes[i + 2].to_ascii_uppercase()));
            }
            i += 3;
            continue;
        }
        // Copy one whole UTF-8 character; `i` always sits on a char boundary here.
        let ch_len = utf8_len(bytes[i]);
        out.push_str(path.get(i..i + ch_len).unwrap_or(""));
        i += ch_len;
    }
    Cow::Owned(out)
}

/// The byte a valid `%XX` escape at `i` stands for.
fn escape_at(bytes: &[u8], i: usize) -> Option<u8> {
    if bytes.get(i) != Some(&b'%') {
        return None;
    }
    let hi = hex_val(*bytes.get(i + 1)?)?;
    let lo = hex_val(*bytes.get(i + 2)?)?;
    Some(hi << 4 | lo)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// One decoded query pair.
pub type QueryPair<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

/// Query pairs decoded (`+` is a space, `%XX` its byte) and sorted.
pub fn normalized_query_pairs(query: &str) -> Vec<QueryPair<'_>> {
    let mut pairs: Vec<_> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect();
    pairs.sort();
    pairs
}

fn decode_component(s: &str) -> Cow<'_, [u8]> {
    if !s.contains(['%', '+']) {
        return Cow::Borrowed(s.as_bytes());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if let Some(c) = escape_at(b, i) {
            out.push(c);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    Cow::Owned(out)
}

/// A human-readable normalized form of `path?query`, for listings and miss reports.
pub fn normalized_uri(path_and_query: &str) -> String {
    let (path, query) = split_query(path_and_query);
    let mut out = normalize_path(path).into_owned();
    if let Some(q) = query {
        let pairs = normalized_query_pairs(q);
        for (i, (k, v)) in pairs.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(&String::from_utf8_lossy(k));
            if !v.is_empty() {
                out.push('=');
                out.push_str(&String::from_utf8_lossy(v));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(m: &str, u: &str, body: &[u8]) -> RequestKey {
        request_key("svc", m, u, body_fingerprint(body))
    }

    #[test]
    fn query_order_and_encoding_do_not_matter() {
        assert_eq!(key("GET", "/a?x=1&y=2", b""), key("GET", "/a?y=2&x=1", b""));
        assert_eq!(key("GET", "/a?q=a+b", b""), key("GET", "/a?q=a%20b", b""));
        assert_eq!(key("GET", "/a?flag", b""), key("GET", "/a?flag=", b""));
        assert_eq!(key("GET", "/a?", b""), key("GET", "/a", b""));
        assert_ne!(key("GET", "/a?x=1", b""), key("GET", "/a?x=2", b""));
        assert_ne!(key("GET", "/a?x=1%262", b""), key("GET", "/a?x=1&2", b""));
    }

    #[test]
    fn path_escapes_normalize() {
        assert_eq!(normalize_path("/a%7eb"), "/a~b");
        assert_eq!(normalize_path("/a%2fb"), "/a%2Fb");
        assert_eq!(normalize_path("/caf%C3%A9/é"), "/caf%C3%A9/é");
        assert_eq!(normalize_path("/bad%zz%"), "/bad%zz%");
        assert_eq!(
            key("GET", "/users/%34%32", b""),
            key("GET", "/users/42", b"")
        );
        assert_ne!(key("GET", "/a%2Fb", b""), key("GET", "/a/b", b""));
    }

    #[test]
    fn json_key_order_does_not_matter_but_values_do() {
        let a = br#"{"a":1,"b":{"c":[1,2],"d":"x"}}"#;
        let b = br#" { "b" : {"d":"x","c":[1,2]}, "a":1 } "#;
        assert_eq!(body_fingerprint(a), body_fingerprint(b));
        assert_ne!(
            body_fingerprint(a),
            body_fingerprint(br#"{"a":2,"b":{"c":[1,2],"d":"x"}}"#)
        );
        assert_ne!(body_fingerprint(br#"[1,2]"#), body_fingerprint(br#"[2,1]"#));
        assert_eq!(body_fingerprint(b""), 0);
        assert_ne!(body_fingerprint(b"{not json"), 0);
    }

    #[test]
    fn method_service_and_body_separate_keys() {
        assert_ne!(key("GET", "/a", b""), key("POST", "/a", b""));
        assert_ne!(key("POST", "/a", b"x"), key("POST", "/a", b"y"));
        assert_ne!(
            request_key("s1", "GET", "/a", 0),
            request_key("s2", "GET", "/a", 0)
        );
    }

    #[test]
    fn normalized_uri_is_readable() {
        assert_eq!(normalized_uri("/x?b=2&a=1"), "/x?a=1&b=2");
        assert_eq!(normalized_uri(""), "/");
    }
}
