//! Hostile and broken input: nothing here may panic, overflow the stack, or take
//! super-linear time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use ghost_scrub::{RuleError, ScrubConfig, ScrubRule, Scrubber};
use serde_json::{Value, json};

fn scrubber() -> Scrubber {
    Scrubber::new(ScrubConfig::default()).unwrap()
}

fn with_rule(path: &str) -> Result<Scrubber, ghost_scrub::ScrubberError> {
    Scrubber::new(ScrubConfig {
        rules: vec![ScrubRule {
            path: path.into(),
            replacement: json!("x"),
        }],
        ..ScrubConfig::default()
    })
}

#[test]
fn invalid_and_whole_document_paths_are_refused() {
    for p in ["", "$$", "$.a[", "$[?@.x ==]", "$.a..", "password", "$['x'"] {
        let e = with_rule(p).err().unwrap();
        assert!(e.to_string().contains("not valid JSONPath"), "{p}: {e}");
    }
    for p in ["$", "$..*", "$.*..*", "$..[*]", "$[*]..*"] {
        let e = with_rule(p).err().unwrap();
        assert!(
            matches!(
                e,
                ghost_scrub::ScrubberError::Rule(RuleError::WholeDocument { .. })
            ),
            "{p}"
        );
    }
}

#[test]
fn non_utf8_bodies() {
    let s = scrubber();
    // Unknown type, not UTF-8: binary, untouched.
    assert_eq!(
        s.scrub_body(&[0xff, 0xfe, b'a', b'@', b'b', b'.', b'i', b'o'], None),
        None
    );
    // Declared text with a stray Latin-1 byte: the valid runs are still scrubbed.
    let body = b"caf\xe9 mail bob@example.com \xff end";
    assert_eq!(
        s.scrub_body(body, Some("text/plain")).unwrap(),
        b"caf\xe9 mail [EMAIL] \xff end"
    );
    // Declared JSON that is not: falls back to the text pass.
    let broken = b"{\"email\": \"bob@example.com\", \xff";
    assert_eq!(
        s.scrub_body(broken, Some("application/json")).unwrap(),
        b"{\"email\": \"[EMAIL]\", \xff"
    );
}

#[test]
fn deeply_nested_json_body_falls_back_to_text() {
    let s = scrubber();
    let depth = 10_000;
    let body = format!(
        "{}\"bob@example.com\"{}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let out = s
        .scrub_body(body.as_bytes(), Some("application/json"))
        .unwrap();
    assert_eq!(
        out,
        format!("{}\"[EMAIL]\"{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
    );
}

#[test]
fn deeply_nested_value_is_walked_without_recursion() {
    // Built in code, so serde_json's parse limit does not apply. Run on a thread
    // with a normal 2 MiB stack: the walk itself must not recurse.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let mut v = json!({"email": "bob@example.com"});
            for _ in 0..10_000 {
                // Not `json!`, which would re-serialise `v` recursively.
                let obj = serde_json::Map::from_iter([("inner".to_owned(), v)]);
                v = Value::Array(vec![Value::Object(obj)]);
            }
            let report = scrubber().scrub_json(&mut v);
            assert_eq!(report.total(), 1);
            dismantle(v);
        })
        .unwrap()
        .join()
        .unwrap();
}

/// Drops a deep value iteratively: serde_json's own `Drop` recurses.
fn dismantle(v: Value) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a),
            Value::Object(m) => stack.extend(m.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

fn assert_fast(what: &str, f: impl FnOnce()) {
    let t = Instant::now();
    f();
    // Generous for a debug build on a shared 2-core machine; quadratic behaviour
    // on these inputs would take minutes.
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "{what} took {:?}",
        t.elapsed()
    );
}

#[test]
fn huge_strings_are_linear() {
    let s = scrubber();
    let mb = 1 << 20;
    assert_fast("digits", || {
        let text = "7".repeat(mb);
        assert_eq!(s.detector().scrub_text(&text).len(), mb);
    });
    assert_fast("email-ish", || {
        let _ = s.detector().scrub_text(&"a.".repeat(mb / 2));
    });
    assert_fast("dotted", || {
        let _ = s.detector().scrub_text(&"1.".repeat(mb / 2));
    });
    assert_fast("many findings", || {
        let text = "x 10.0.0.1 y bob@example.com ".repeat(20_000);
        let out = s.detector().scrub_text(&text);
        assert_eq!(out.matches("[IPV4]").count(), 20_000);
        assert_eq!(out.matches("[EMAIL]").count(), 20_000);
    });
    assert_fast("bearer run", || {
        let text = format!("Bearer {}", "A".repeat(mb));
        assert_eq!(s.detector().scrub_text(&text), "Bearer [REDACTED]");
    });
}

#[test]
fn empty_and_tiny_inputs() {
    let s = scrubber();
    assert_eq!(s.scrub_body(b"", Some("application/json")), None);
    assert_eq!(s.scrub_url(""), "");
    assert_eq!(s.scrub_url("?"), "?");
    assert_eq!(s.scrub_url("#&&=="), "#&&==");
    assert_eq!(s.scrub_header_value("", ""), "");
    assert_eq!(s.detector().find("é").len(), 0);
    let mut v = Value::Null;
    assert!(s.scrub_json(&mut v).is_empty());
}

#[test]
fn deep_value_with_rules_fails_closed() {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let s = with_rule("$..password").unwrap();
            let mut v = json!({"password": "p"});
            for _ in 0..10_000 {
                let obj = serde_json::Map::from_iter([("inner".to_owned(), v)]);
                v = Value::Array(vec![Value::Object(obj)]);
            }
            // Rules cannot be evaluated this deep without risking the stack:
            // the document is replaced whole rather than stored unscrubbed.
            let report = s.scrub_json(&mut v);
            assert!(report.too_deep);
            assert_eq!(v, json!("[REDACTED]"));
        })
        .unwrap()
        .join()
        .unwrap();
}
