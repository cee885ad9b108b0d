//! The seal on scrubbed records, and the one rule every downstream store applies
//! when it keeps one record per capture id.
//!
//! A scrubbed capture is sealed by its `scrubbed_at_us` (set by the scrubber, > 0).
//! Redeliveries and re-scrubs mean a capture id can appear several times on
//! `ghost.scrubbed.v1`; a store keeps the newest sealed one and never lets an
//! unsealed record (a bug, a hand-written record, an older tool) replace a sealed
//! one, because that is how unscrubbed bytes would reach Postgres or an export.

use crate::ScrubbedCaptureRecord;
use std::collections::HashMap;

/// Whether a record carries the scrubber's seal.
pub fn is_sealed(r: &ScrubbedCaptureRecord) -> bool {
    r.scrubbed_at_us > 0
}

/// Whether `incoming` may replace `existing` (same capture id) in a store.
///
/// Sealed beats unsealed; between two sealed records the later scrub wins (ties
/// keep the existing one, so a redelivery changes nothing); an unsealed record
/// never replaces anything it does not have to.
pub fn supersedes(incoming: &ScrubbedCaptureRecord, existing: &ScrubbedCaptureRecord) -> bool {
    match (is_sealed(incoming), is_sealed(existing)) {
        (true, false) => true,
        (false, _) => false,
        (true, true) => incoming.scrubbed_at_us > existing.scrubbed_at_us,
    }
}

/// What applying one record to a [`SealedView`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Inserted,
    Replaced,
    /// Kept the existing record (a redelivery or an older scrub).
    Kept,
    /// Refused: the record is not sealed.
    Unsealed,
}

/// The deduplicated view of `ghost.scrubbed.v1` by capture id, under the seal
/// rule. Downstream projections hold the same invariant in their own storage.
#[derive(Debug, Default)]
pub struct SealedView {
    by_id: HashMap<String, ScrubbedCaptureRecord>,
}

impl SealedView {
    /// Applies one record read from the topic.
    pub fn apply(&mut self, incoming: ScrubbedCaptureRecord) -> Applied {
        if !is_sealed(&incoming) {
            return Applied::Unsealed;
        }
        match self.by_id.get_mut(&incoming.id) {
            None => {
                self.by_id.insert(incoming.id.clone(), incoming);
                Applied::Inserted
            }
            Some(existing) if supersedes(&incoming, existing) => {
                *existing = incoming;
                Applied::Replaced
            }
            Some(_) => Applied::Kept,
        }
    }

    pub fn get(&self, id: &str) -> Option<&ScrubbedCaptureRecord> {
        self.by_id.get(id)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, at: i64, body: &str) -> ScrubbedCaptureRecord {
        ScrubbedCaptureRecord {
            tenant: "default".into(),
            upstream_http_version: String::new(),
            id: id.into(),
            service: "s".into(),
            session_id: String::new(),
            method: "GET".into(),
            uri: "/".into(),
            request_headers: vec![],
            request_body: body.as_bytes().to_vec(),
            status: 200,
            response_headers: vec![],
            response_body: vec![],
            started_at_us: 1,
            duration_us: 1,
            upstream: String::new(),
            http_version: "HTTP/1.1".into(),
            body_truncated: false,
            scrubbed_at_us: at,
            scrub_config_id: String::new(),
            findings: vec![],
        }
    }

    #[test]
    fn unsealed_never_overwrites_sealed() {
        let mut v = SealedView::default();
        assert_eq!(v.apply(rec("a", 10, "[EMAIL]")), Applied::Inserted);
        assert_eq!(v.apply(rec("a", 0, "raw@example.com")), Applied::Unsealed);
        assert_eq!(v.apply(rec("a", -5, "raw@example.com")), Applied::Unsealed);
        assert_eq!(v.get("a").unwrap().request_body, b"[EMAIL]");
        assert!(!supersedes(&rec("a", 0, ""), &rec("a", 10, "")));
        assert!(supersedes(&rec("a", 1, ""), &rec("a", 0, "")));
    }

    #[test]
    fn newest_seal_wins_and_redeliveries_change_nothing() {
        let mut v = SealedView::default();
        v.apply(rec("a", 10, "first"));
        assert_eq!(v.apply(rec("a", 10, "again")), Applied::Kept);
        assert_eq!(v.apply(rec("a", 5, "older")), Applied::Kept);
        assert_eq!(v.apply(rec("a", 20, "rescrub")), Applied::Replaced);
        assert_eq!(v.get("a").unwrap().request_body, b"rescrub");
        assert_eq!(v.len(), 1);
    }
}
