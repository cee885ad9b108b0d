//! The compiled detector: built once, shared by every scrub.
//!
//! Each pattern is its own `Regex`, run over the string, its hits validated, and
//! overlaps resolved so each byte is replaced at most once. Strings with no hit
//! (most ids, enums, timestamps) cost no allocation.
//!
//! There is deliberately no `RegexSet` pre-check. It was the first design and was
//! measured on the corpus strings (1 MB, release build): `RegexSet::matches` over
//! all 17 patterns took ~300 ms, `is_match` ~220 ms (ASCII-only mode barely
//! helps), while running all 17 individual regexes took ~55 ms, because a single
//! regex gets a literal prefilter (`eyJ`, `sk-`, `@`, …) that a multi-pattern DFA
//! cannot use. A gate that costs five times the work it gates is not a fast path.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

use regex::Regex;

use super::Category;
use super::patterns::{PATTERNS, Pattern};

/// One validated piece of PII in a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was found; decides the placeholder.
    pub category: Category,
    /// Byte range in the searched text (always on char boundaries).
    pub range: Range<usize>,
}

/// Finds PII in text. Cheap to share (`&self` everywhere); expensive to build, so
/// build it once per process.
#[derive(Debug, Clone)]
pub struct Detector {
    regexes: Vec<Regex>,
}

/// A set of categories to leave alone in one search, e.g. IPv4 inside a field
/// named `version`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skip(u32);

impl Skip {
    /// Skip nothing.
    pub const NONE: Skip = Skip(0);

    /// This set plus `c`.
    pub fn with(self, c: Category) -> Skip {
        Skip(self.0 | (1 << c.index()))
    }

    fn contains(self, c: Category) -> bool {
        self.0 & (1 << c.index()) != 0
    }
}

impl Detector {
    /// Compiles every pattern. The patterns are constants covered by tests, so an
    /// error here means a broken build, but it is still reported rather than panicking.
    pub fn new() -> Result<Self, regex::Error> {
        let regexes = PATTERNS
            .iter()
            .map(|p| Regex::new(p.regex))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Detector { regexes })
    }

    /// Every PII finding in `text`, sorted by position, never overlapping.
    pub fn find(&self, text: &str) -> Vec<Finding> {
        self.find_skipping(text, Skip::NONE)
    }

    /// Like [`Detector::find`], ignoring the categories in `skip`.
    pub fn find_skipping(&self, text: &str, skip: Skip) -> Vec<Finding> {
        // Nothing shorter than an IPv4 `1.1.1.1` or an email `a@b.co` can match.
        if text.len() < 6 {
            return Vec::new();
        }
        let mut candidates = Vec::new();
        for (re, p) in self.regexes.iter().zip(PATTERNS) {
            collect(re, p, text, skip, &mut candidates);
        }
        if candidates.is_empty() {
            return candidates;
        }
        resolve(candidates)
    }

    /// `text` with every finding replaced by its placeholder; borrowed (no
    /// allocation) when nothing is found.
    pub fn scrub_text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.scrub_text_counted(text, Skip::NONE, &mut |_| {})
    }

    /// [`Detector::scrub_text`] that skips categories and reports each replacement.
    pub fn scrub_text_counted<'a>(
        &self,
        text: &'a str,
        skip: Skip,
        on_replace: &mut dyn FnMut(Category),
    ) -> Cow<'a, str> {
        let findings = self.find_skipping(text, skip);
        if findings.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for f in &findings {
            out.push_str(&text[pos..f.range.start]);
            out.push_str(f.category.placeholder());
            on_replace(f.category);
            pos = f.range.end;
        }
        out.push_str(&text[pos..]);
        Cow::Owned(out)
    }
}

/// Runs one pattern over the whole text. After a rejected match the search resumes
/// at its end, not one byte later: that keeps the scan linear on hostile input (a
/// megabyte of digits) at the price of not finding PII that starts inside a
/// rejected run, which by the boundary rules could not be PII anyway.
fn collect(re: &Regex, p: &Pattern, text: &str, skip: Skip, out: &mut Vec<Finding>) {
    let mut pos = 0;
    while pos <= text.len() {
        let Some(m) = re.find_at(text, pos) else {
            break;
        };
        let next = if m.end() > m.start() {
            m.end()
        } else {
            m.end() + 1
        };
        if let Some((category, range)) = (p.check)(text, m.range())
            && !skip.contains(category)
            && !range.is_empty()
        {
            out.push(Finding { category, range });
        }
        pos = next;
        while pos < text.len() && !text.is_char_boundary(pos) {
            pos += 1;
        }
    }
}

/// Longest finding wins; equal lengths go to the more specific category. Accepted
/// ranges live in a map keyed by start so each overlap test is a log-time lookup.
fn resolve(mut candidates: Vec<Finding>) -> Vec<Finding> {
    candidates.sort_by(|a, b| {
        b.range
            .len()
            .cmp(&a.range.len())
            .then(a.category.specificity().cmp(&b.category.specificity()))
            .then(a.range.start.cmp(&b.range.start))
    });
    let mut taken: BTreeMap<usize, (usize, Category)> = BTreeMap::new();
    for f in candidates {
        let overlaps_prev = taken
            .range(..f.range.end)
            .next_back()
            .is_some_and(|(_, (end, _))| *end > f.range.start);
        if !overlaps_prev {
            taken.insert(f.range.start, (f.range.end, f.category));
        }
    }
    taken
        .into_iter()
        .map(|(start, (end, category))| Finding {
            category,
            range: start..end,
        })
        .collect()
}

#[cfg(test)]
#[path = "detector_tests.rs"]
mod tests;
