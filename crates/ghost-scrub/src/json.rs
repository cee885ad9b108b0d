//! The JSON walk: sensitive keys, then the regex pass over every string.
//!
//! The walk is iterative with an explicit stack, because `scrub_json` accepts any
//! `Value` and one built in code (not parsed) can be nested far deeper than the
//! thread's stack. Object keys are never rewritten: they are schema, and replay
//! matching depends on them.

use serde_json::Value;

use crate::keys::{SensitiveKeys, is_version_key};
use crate::pii::{Category, Detector, Skip};
use crate::report::ScrubReport;

/// The fixed value sensitive keys get.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Deepest document JSONPath rules are evaluated on: serde_json's own parse limit,
/// so every parsed body qualifies.
pub(crate) const RULE_DEPTH_LIMIT: usize = 128;

/// Whether `v` nests deeper than `limit`, found without recursion and stopping at
/// the first path that does.
pub(crate) fn deeper_than(v: &Value, limit: usize) -> bool {
    let mut stack = vec![(v, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        if depth > limit {
            return true;
        }
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|c| (c, depth + 1))),
            Value::Object(m) => stack.extend(m.values().map(|c| (c, depth + 1))),
            _ => {}
        }
    }
    false
}

/// Drops a value without recursion; serde_json's own `Drop` recurses per level.
pub(crate) fn drop_iteratively(v: Value) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a),
            Value::Object(m) => stack.extend(m.into_iter().map(|(_, c)| c)),
            _ => {}
        }
    }
}

/// Integers this long may be card numbers sent as JSON numbers; shorter ones are
/// quantities, ids and timestamps and are not worth formatting.
const MIN_NUMERIC_PII_DIGITS: usize = 13;

pub(crate) fn scrub_value(
    det: &Detector,
    keys: &SensitiveKeys,
    root: &mut Value,
    report: &mut ScrubReport,
) {
    let mut stack: Vec<(&mut Value, Skip)> = vec![(root, Skip::NONE)];
    while let Some((v, skip)) = stack.pop() {
        if let Value::Number(n) = &*v {
            if let Some(category) = numeric_pii(det, n, skip) {
                report.add(category);
                *v = Value::String(category.placeholder().to_owned());
            }
            continue;
        }
        match v {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    if keys.is_sensitive(k) {
                        if child.as_str() != Some(REDACTED) {
                            *child = Value::String(REDACTED.to_owned());
                            report.keys += 1;
                        }
                    } else {
                        // A dotted quad under `version`/`build` is a version number.
                        let skip = if is_version_key(k) {
                            skip.with(Category::Ipv4)
                        } else {
                            skip
                        };
                        stack.push((child, skip));
                    }
                }
            }
            Value::Array(items) => stack.extend(items.iter_mut().map(|c| (c, skip))),
            Value::String(s) => {
                let scrubbed = det.scrub_text_counted(s, skip, &mut |c| report.add(c));
                if let std::borrow::Cow::Owned(new) = scrubbed {
                    *s = new;
                }
            }
            Value::Number(_) | Value::Bool(_) | Value::Null => {}
        }
    }
}

/// A JSON number that is, as a whole, a card number (APIs do send `"pan": 4111…`).
fn numeric_pii(det: &Detector, n: &serde_json::Number, skip: Skip) -> Option<Category> {
    if !(n.is_u64() || n.is_i64()) {
        return None;
    }
    let text = n.to_string();
    if text.len() < MIN_NUMERIC_PII_DIGITS {
        return None;
    }
    match det.find_skipping(&text, skip).as_slice() {
        [f] if f.range == (0..text.len()) => Some(f.category),
        _ => None,
    }
}
