//! ghost-scrub: the pure PII scrubbing engine applied to every capture before it
//! leaves the box (Postgres, the index, exports).
//!
//! Three layers run in a fixed order, each seeing the previous one's output:
//!
//! 1. per-service JSONPath [`rules`] (the user knows their API best),
//! 2. sensitive [`keys`]: the whole value under `password`, `apiKey`, … becomes
//!    `"[REDACTED]"`,
//! 3. the [`pii`] regex pass over every remaining string (17 categories, each with
//!    its own placeholder such as `[CARD]` or `[EMAIL]`).
//!
//! The engine does no I/O; a [`Scrubber`] is built once from a [`ScrubConfig`] and
//! shared across threads. Quality is measured by `tests/corpus.rs`; see
//! `docs/scrubber-quality.md`. The worker that applies it to captures is
//! `services/ghost-scrubber`; the control plane previews rule sets with it.

mod body;
mod http;
mod json;
pub mod keys;
pub mod pii;
mod report;
pub mod rules;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use keys::SensitiveKeys;
pub use pii::{Category, Detector, Finding};
pub use report::ScrubReport;
pub use rules::{RuleError, RuleSet, ScrubRule};

use body::BodyKind;

/// Scrubbing configuration for one service, as stored with the service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrubConfig {
    /// JSONPath rules applied before anything else.
    #[serde(default)]
    pub rules: Vec<ScrubRule>,
    /// Key names to treat as sensitive on top of the built-in list (normalised the
    /// same way: `taxId` matches `tax_id`).
    #[serde(default)]
    pub extra_keys: Vec<String>,
    /// Off means captures are stored verbatim: for services whose data is synthetic
    /// and where placeholders would break replay.
    #[serde(default = "default_enabled")]
    pub enabled: bool,
}

fn default_enabled() -> bool {
    true
}

impl Default for ScrubConfig {
    fn default() -> Self {
        ScrubConfig {
            rules: Vec::new(),
            extra_keys: Vec::new(),
            enabled: true,
        }
    }
}

/// Why a [`Scrubber`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ScrubberError {
    /// A configured rule was refused.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// A built-in pattern failed to compile: a bug in this crate, not in the config.
    #[error("built-in PII pattern failed to compile: {0}")]
    Pattern(#[from] regex::Error),
}

/// The scrubbing engine for one service.
#[derive(Debug, Clone)]
pub struct Scrubber {
    detector: Detector,
    keys: SensitiveKeys,
    rules: RuleSet,
    enabled: bool,
}

impl Scrubber {
    /// Validates the rules and compiles the detector.
    pub fn new(config: ScrubConfig) -> Result<Self, ScrubberError> {
        Ok(Scrubber {
            detector: Detector::new()?,
            keys: SensitiveKeys::new(&config.extra_keys),
            rules: RuleSet::new(config.rules)?,
            enabled: config.enabled,
        })
    }

    /// The regex detector, for callers that scrub text of their own.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// Scrubs a JSON document in place: rules, then sensitive keys, then the regex
    /// pass over every string value (object keys are never changed). With rules
    /// configured, a document nested deeper than 128 levels is replaced whole by
    /// `"[REDACTED]"` and reported as `too_deep`.
    pub fn scrub_json(&self, v: &mut Value) -> ScrubReport {
        let mut report = ScrubReport::default();
        if !self.enabled {
            return report;
        }
        if !self.rules.is_empty() {
            if json::deeper_than(v, json::RULE_DEPTH_LIMIT) {
                // serde_json_path recurses per level, so a deeper document (only
                // possible for values built in code; parsing stops at 128) could
                // overflow the stack. The rules cannot be honoured, so fail closed.
                let old = std::mem::replace(v, Value::String(json::REDACTED.to_owned()));
                json::drop_iteratively(old);
                report.too_deep = true;
                report.rules = 1;
                return report;
            }
            report.rules = self.rules.apply(v);
        }
        json::scrub_value(&self.detector, &self.keys, v, &mut report);
        report
    }

    /// Scrubs a body; `None` when nothing changed (including binary bodies, which
    /// are never touched). JSON that fails to parse, for instance because it nests
    /// deeper than serde_json's limit of 128, is scrubbed as text instead.
    pub fn scrub_body(&self, body: &[u8], content_type: Option<&str>) -> Option<Vec<u8>> {
        self.scrub_body_report(body, content_type).0
    }

    /// [`Scrubber::scrub_body`] with the counts, for metrics.
    pub fn scrub_body_report(
        &self,
        body: &[u8],
        content_type: Option<&str>,
    ) -> (Option<Vec<u8>>, ScrubReport) {
        let mut report = ScrubReport::default();
        if !self.enabled || body.is_empty() {
            return (None, report);
        }
        let kind = body::classify(content_type, body);
        let out = match kind {
            BodyKind::Binary => None,
            BodyKind::Json => match serde_json::from_slice::<Value>(body) {
                Ok(mut v) => {
                    report = self.scrub_json(&mut v);
                    // Serialising a Value we just parsed cannot fail; if it ever
                    // did, fall back to the text pass rather than store raw PII.
                    match (report.is_empty(), serde_json::to_vec(&v)) {
                        (true, _) => None,
                        (false, Ok(bytes)) => Some(bytes),
                        (false, Err(_)) => self.text_body(body, &mut report),
                    }
                }
                Err(_) => self.text_body(body, &mut report),
            },
            BodyKind::Form => {
                body::scrub_utf8_runs(body, |s| match self.ctx().query(s, &mut report) {
                    Some(new) => Cow::Owned(new),
                    None => Cow::Borrowed(s),
                })
            }
            BodyKind::Text => self.text_body(body, &mut report),
        };
        (out, report)
    }

    fn text_body(&self, body: &[u8], report: &mut ScrubReport) -> Option<Vec<u8>> {
        body::scrub_utf8_runs(body, |s| {
            self.detector
                .scrub_text_counted(s, pii::Skip::NONE, &mut |c| report.add(c))
        })
    }

    /// Scrubs one header value. `Authorization` keeps its scheme (`Bearer
    /// [REDACTED]`), cookies keep their names, headers whose name is a sensitive
    /// key (`X-Api-Key`) are redacted whole, others get the regex pass.
    pub fn scrub_header_value<'v>(&self, name: &str, value: &'v str) -> Cow<'v, str> {
        if !self.enabled {
            return Cow::Borrowed(value);
        }
        self.ctx().header(name, value, &mut ScrubReport::default())
    }

    /// Scrubs a URL (absolute or path-only): userinfo password, path segments,
    /// query values (whole value for sensitive keys) and fragment values. Scheme
    /// and host are kept.
    pub fn scrub_url<'u>(&self, url: &'u str) -> Cow<'u, str> {
        if !self.enabled {
            return Cow::Borrowed(url);
        }
        self.ctx().url(url, &mut ScrubReport::default())
    }

    fn ctx(&self) -> http::Ctx<'_> {
        http::Ctx {
            det: &self.detector,
            keys: &self.keys,
        }
    }
}
