//! What one scrub replaced, for metrics and for the capture's audit trail.

use std::fmt;

use crate::pii::Category;

/// Replacement counts from one scrub call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScrubReport {
    pii: [usize; Category::COUNT],
    /// Values redacted because their key is sensitive.
    pub keys: usize,
    /// Values replaced by per-service JSONPath rules.
    pub rules: usize,
    /// The document was too deep to evaluate rules on and was replaced whole.
    pub too_deep: bool,
}

impl ScrubReport {
    /// Replacements of one PII category by the regex pass.
    pub fn count(&self, c: Category) -> usize {
        self.pii[c.index()]
    }

    /// All replacements: regex findings, sensitive keys and rules.
    pub fn total(&self) -> usize {
        self.pii.iter().sum::<usize>() + self.keys + self.rules
    }

    /// Whether nothing was replaced (the input is returned unchanged).
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    /// The categories with at least one replacement, with their counts.
    pub fn categories(&self) -> impl Iterator<Item = (Category, usize)> + '_ {
        Category::ALL
            .iter()
            .map(|&c| (c, self.pii[c.index()]))
            .filter(|(_, n)| *n > 0)
    }

    pub(crate) fn add(&mut self, c: Category) {
        self.pii[c.index()] += 1;
    }

    /// Adds another report's counts into this one.
    pub fn merge(&mut self, other: &ScrubReport) {
        for (a, b) in self.pii.iter_mut().zip(other.pii.iter()) {
            *a += b;
        }
        self.keys += other.keys;
        self.rules += other.rules;
        self.too_deep |= other.too_deep;
    }
}

impl fmt::Display for ScrubReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("nothing scrubbed");
        }
        let mut parts: Vec<String> = self.categories().map(|(c, n)| format!("{c}={n}")).collect();
        if self.keys > 0 {
            parts.push(format!("keys={}", self.keys));
        }
        if self.rules > 0 {
            parts.push(format!("rules={}", self.rules));
        }
        f.write_str(&parts.join(" "))
    }
}
