//! Per-service JSONPath rules (RFC 9535) that replace selected values.
//!
//! Rules are validated when saved, not when applied: a path that does not parse, or
//! one that would blank the whole capture, is refused with a message the user can
//! act on. "Whole document" is decided empirically rather than syntactically,
//! because RFC 9535 has many spellings of "everything" (`$`, `$..*`, `$..[*]`,
//! `$[*]..*`, `$[?@]`, …): each rule runs against small probe documents, and a
//! rule that selects the root, or whose selections cover every leaf of a probe,
//! is rejected. Probe member names are odd on purpose, so an ordinary rule such as
//! `$.user.password` selects nothing there.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use serde_json_path::JsonPath;
use serde_json_path::PathElement;

/// One rule: replace every value selected by `path` with `replacement`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrubRule {
    /// An RFC 9535 JSONPath query, e.g. `$.customer.tax_id` or `$..[?@.type == 'card'].number`.
    pub path: String,
    /// The JSON value written at each selected location.
    #[serde(default = "default_replacement")]
    pub replacement: Value,
}

fn default_replacement() -> Value {
    Value::String("[REDACTED]".to_owned())
}

/// Why a rule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The path is not valid RFC 9535 JSONPath.
    #[error("scrub rule path {path:?} is not valid JSONPath: {detail}")]
    InvalidPath { path: String, detail: String },
    /// The path would replace the entire document, which would make the capture useless.
    #[error(
        "scrub rule path {path:?} selects the whole document; name the fields to replace instead"
    )]
    WholeDocument { path: String },
}

/// One path step with owned data, so locations outlive the query borrow.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Name(String),
    Index(usize),
}

#[derive(Debug, Clone)]
struct Compiled {
    path: JsonPath,
    replacement: Value,
}

/// Validated rules, ready to apply.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Compiled>,
}

impl RuleSet {
    /// Parses and validates every rule; the first bad one is reported.
    pub fn new(rules: Vec<ScrubRule>) -> Result<Self, RuleError> {
        let probes = probes();
        let mut compiled = Vec::with_capacity(rules.len());
        for rule in rules {
            let path = JsonPath::parse(&rule.path).map_err(|e| RuleError::InvalidPath {
                path: rule.path.clone(),
                detail: e.to_string(),
            })?;
            if probes.iter().any(|p| covers_everything(&path, p)) {
                return Err(RuleError::WholeDocument { path: rule.path });
            }
            compiled.push(Compiled {
                path,
                replacement: rule.replacement,
            });
        }
        Ok(RuleSet { rules: compiled })
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Applies every rule in order; returns how many values were replaced. A
    /// location removed by an earlier replacement (an ancestor was replaced) is
    /// skipped.
    pub fn apply(&self, doc: &mut Value) -> usize {
        let mut replaced = 0;
        for rule in &self.rules {
            for steps in locations(&rule.path, doc) {
                if let Some(slot) = navigate(doc, &steps) {
                    *slot = rule.replacement.clone();
                    replaced += 1;
                }
            }
        }
        replaced
    }
}

fn locations(path: &JsonPath, doc: &Value) -> Vec<Vec<Step>> {
    path.query_located(doc)
        .dedup()
        .into_iter()
        .map(|node| {
            node.location()
                .iter()
                .map(|el| match el {
                    PathElement::Name(n) => Step::Name((*n).to_owned()),
                    PathElement::Index(i) => Step::Index(*i),
                })
                .collect()
        })
        .collect()
}

fn navigate<'a>(mut v: &'a mut Value, steps: &[Step]) -> Option<&'a mut Value> {
    for s in steps {
        v = match (s, v) {
            (Step::Name(n), Value::Object(m)) => m.get_mut(n)?,
            (Step::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Probe documents: nested objects, arrays at the root, a flat object, mixed
/// scalars. Names start with `gq` so realistic field names never match.
fn probes() -> [Value; 4] {
    [
        json!({"gq_a": {"gq_b": [1, "x", {"gq_c": true}], "gq_d": null}, "gq_e": "y", "gq_f": []}),
        json!([{"gq_g": 1}, [2, 3], "z"]),
        json!({"gq_h": 1, "gq_i": "two"}),
        json!({"gq_j": {"gq_k": {"gq_l": {"gq_m": 0}}}, "gq_n": [[0.5]]}),
    ]
}

/// Whether the rule selects the root, or every leaf (a scalar or empty container)
/// of `probe` is selected directly or through an ancestor.
fn covers_everything(path: &JsonPath, probe: &Value) -> bool {
    let selected = locations(path, probe);
    if selected.iter().any(Vec::is_empty) {
        return true;
    }
    if selected.is_empty() {
        return false;
    }
    leaves(probe)
        .iter()
        .all(|leaf| selected.iter().any(|s| leaf.starts_with(s)))
}

fn leaves(v: &Value) -> Vec<Vec<Step>> {
    let mut out = Vec::new();
    let mut stack = vec![(Vec::new(), v)];
    while let Some((prefix, v)) = stack.pop() {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, child) in m {
                    let mut p = prefix.clone();
                    p.push(Step::Name(k.clone()));
                    stack.push((p, child));
                }
            }
            Value::Array(a) if !a.is_empty() => {
                for (i, child) in a.iter().enumerate() {
                    let mut p = prefix.clone();
                    p.push(Step::Index(i));
                    stack.push((p, child));
                }
            }
            _ => out.push(prefix),
        }
    }
    out
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
