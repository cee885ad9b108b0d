//! Smart swap: serve a recording of the same path template with the ids swapped.
//!
//! For `/users/99` when only `/users/42` was recorded, the recorded response is
//! served with `42` replaced by `99` wherever it appears as a whole value: JSON
//! string or number values equal to the old id (structure-aware, so `420` and
//! `"x42"` are left alone), or whole tokens in text bodies. Encoded bodies
//! (gzip, br, ...) are served as recorded.

use super::Library;
use super::TemplateKey;
use super::recording::Recording;
use bytes::Bytes;
use ghost_model::fingerprint::{normalized_uri, split_query};
use ghost_model::template;
use std::sync::Arc;

pub(super) fn smart_swap(
    lib: &Library,
    service: &str,
    method: &str,
    path_and_query: &str,
    body_fp: u128,
) -> Option<(Arc<Recording>, Bytes)> {
    let (path, _) = split_query(path_and_query);
    let t = template::infer(path);
    if t.params.is_empty() {
        return None;
    }
    let key = TemplateKey {
        service: Arc::from(service),
        method: Arc::from(method),
        template: t.template.into_boxed_str(),
    };
    let keys = lib.templates.get(&key)?;
    let wanted_query = split_query(&normalized_uri(path_and_query))
        .1
        .map(str::to_owned);
    // Prefer a recording with the same query and body; then the newest.
    let best = keys
        .iter()
        .rev()
        .filter_map(|k| lib.exact.get(k))
        .map(|e| e.recordings()[0].clone())
        .max_by_key(|r| {
            let same_query = split_query(&r.normalized_uri).1.map(str::to_owned) == wanted_query;
            (
                u8::from(same_query) + u8::from(r.body_fp == body_fp),
                r.recorded_at_us,
            )
        })?;
    let (rec_path, _) = split_query(&best.uri);
    let rec_t = template::infer(rec_path);
    let swaps: Vec<(&str, &str)> = rec_t
        .params
        .iter()
        .zip(t.params.iter())
        .filter(|(old, new)| old.1 != new.1)
        .map(|(old, new)| (old.1, new.1))
        .collect();
    let body = substitute(&best, &swaps);
    Some((best, body))
}

fn substitute(rec: &Recording, swaps: &[(&str, &str)]) -> Bytes {
    let body = &rec.response.body;
    let encoded = rec
        .response
        .headers
        .get(http::header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes() != b"identity");
    if swaps.is_empty() || body.is_empty() || encoded {
        return body.clone();
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return body.clone();
    };
    let first = text.trim_start().as_bytes().first().copied();
    let is_json = matches!(first, Some(b'{') | Some(b'['))
        && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
    let out = if is_json {
        swap_json_text(text, swaps)
    } else {
        swap_tokens(text, swaps)
    };
    Bytes::from(out)
}

/// Rewrites a JSON document token by token, so formatting and key order stay
/// byte-identical: a string or number *value* equal to an old id becomes the new
/// id (a number stays a number when the new id is numeric), and path-like string
/// values (containing `/`) get matching path segments swapped. Keys are never
/// touched. The input must be valid JSON.
fn swap_json_text(text: &str, swaps: &[(&str, &str)]) -> String {
    let b = text.as_bytes();
    let find = |raw: &str| swaps.iter().find(|(old, _)| *old == raw).map(|(_, n)| *n);
    let mut out = String::with_capacity(text.len() + 16);
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(b.len());
                let is_key = text
                    .get(end + 1..)
                    .is_some_and(|rest| rest.trim_start().starts_with(':'));
                let raw = text.get(start..end).unwrap_or("");
                if !is_key && !raw.contains('\\') {
                    let replacement = match find(raw) {
                        Some(new) => Some(new.to_owned()),
                        None if raw.contains('/') => {
                            Some(swap_segments(raw, swaps)).filter(|s| s != raw)
                        }
                        None => None,
                    };
                    if let Some(r) = replacement {
                        out.push_str(&text[copied..start]);
                        out.push_str(&r);
                        copied = end;
                    }
                }
                i = end + 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                if let Some(new) = find(&text[start..i]) {
                    out.push_str(&text[copied..start]);
                    if new.bytes().all(|c| c.is_ascii_digit()) {
                        out.push_str(new);
                    } else {
                        out.push('"');
                        out.push_str(new);
                        out.push('"');
                    }
                    copied = i;
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(text.get(copied..).unwrap_or(""));
    out
}

/// Swaps whole path segments (`/users/42?x` → `/users/99?x`).
fn swap_segments(s: &str, swaps: &[(&str, &str)]) -> String {
    let (path, rest) = s.split_at(s.find(['?', '#']).unwrap_or(s.len()));
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        out.push(
            swaps
                .iter()
                .find(|(old, _)| *old == seg)
                .map_or(seg, |(_, new)| *new),
        );
    }
    let mut joined = out.join("/");
    joined.push_str(rest);
    joined
}

/// Replaces whole-token occurrences (neighbours are not letters, digits, `_`, `-`).
fn swap_tokens(text: &str, swaps: &[(&str, &str)]) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    'outer: while i < text.len() {
        let before_ok = text[..i].chars().next_back().is_none_or(|c| !is_word(c));
        if before_ok {
            for (old, new) in swaps {
                if text[i..].starts_with(old) {
                    let after = text[i + old.len()..].chars().next();
                    if after.is_none_or(|c| !is_word(c)) {
                        out.push_str(new);
                        i += old.len();
                        continue 'outer;
                    }
                }
            }
        }
        let ch = text[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_swaps_whole_values_only_and_keeps_formatting() {
        let src = "{\n  \"id\": 42, \"42\": \"42\", \"n\": 420, \"s\": \"x42\",\n  \"list\": [42, -42], \"href\": \"/users/42?x=42\"\n}\n";
        let out = swap_json_text(src, &[("42", "99")]);
        assert_eq!(
            out,
            "{\n  \"id\": 99, \"42\": \"99\", \"n\": 420, \"s\": \"x42\",\n  \"list\": [99, -42], \"href\": \"/users/99?x=42\"\n}\n"
        );
        assert_eq!(
            swap_json_text(r#"{"id":42}"#, &[("42", "cus_123456")]),
            r#"{"id":"cus_123456"}"#
        );
        assert_eq!(
            swap_json_text(r#"{"a":"q\"42"}"#, &[("42", "7")]),
            r#"{"a":"q\"42"}"#
        );
        assert_eq!(swap_json_text(r#"[42]"#, &[("42", "7")]), r#"[7]"#);
    }

    #[test]
    fn text_swaps_whole_tokens() {
        assert_eq!(
            swap_tokens("user 42 has 420 and a42 /users/42.", &[("42", "7")]),
            "user 7 has 420 and a42 /users/7."
        );
        assert_eq!(swap_tokens("é42é", &[("42", "7")]), "é7é");
    }
}
