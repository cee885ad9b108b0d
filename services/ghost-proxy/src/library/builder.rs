//! Folds captures, in log order, into the library and produces snapshots.
//!
//! Applying a capture is O(1) amortized whatever the library size: recordings of
//! a key accumulate in a mutable bucket, and only keys that changed since the
//! last snapshot are frozen into new [`ExactEntry`]s when a snapshot is taken.

use super::ordered::OrderedBuilder;
use super::recording::{MockResponse, Recording};
use super::{ExactEntry, ExactMap, KeyHasher, Library, TemplateKey};
use ghost_model::Capture;
use ghost_model::fingerprint::{
    RequestKey, body_fingerprint, normalized_uri, request_key, split_query,
};
use ghost_model::template;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::Arc;

/// Recordings kept per exact key; a poll loop recorded for hours stops growing here.
pub const MAX_RECORDINGS_PER_KEY: usize = 10_000;

/// Why a capture did not become a servable recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// The response body exceeded the capture cap: serving it would be wrong.
    Truncated,
    /// Status code outside 100..=999.
    BadStatus,
    /// The key already holds [`MAX_RECORDINGS_PER_KEY`] recordings.
    KeyFull,
}

/// All recordings of one key from the newest session that recorded it.
#[derive(Debug)]
struct Bucket {
    session: Arc<str>,
    recordings: Vec<Arc<Recording>>,
}

type KeySet = HashSet<RequestKey, BuildHasherDefault<KeyHasher>>;

/// The mutable side of the library, owned by the materializer.
#[derive(Debug, Default)]
pub struct LibraryBuilder {
    buckets: HashMap<RequestKey, Bucket, BuildHasherDefault<KeyHasher>>,
    /// Frozen entries as of the last snapshot (shared with it).
    exact: ExactMap,
    /// Keys whose bucket changed since the last snapshot.
    changed: KeySet,
    templates: HashMap<TemplateKey, Vec<RequestKey>>,
    ordered: OrderedBuilder,
    /// Servable recordings (superseded ones excluded).
    live: usize,
    /// Interned service, method and session names: thousands of recordings share a few.
    names: HashMap<Box<str>, Arc<str>>,
    dirty: bool,
}

impl LibraryBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.names.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.names.insert(Box::from(s), a.clone());
        a
    }

    /// Adds one capture. A newer LEARN session that records a key replaces the
    /// older session's recordings of it; within a session recordings append.
    pub fn apply(&mut self, capture: &Capture) -> Result<(), Skipped> {
        if capture.body_truncated() {
            return Err(Skipped::Truncated);
        }
        let response = MockResponse::build(
            capture.method(),
            capture.status(),
            capture.response_headers(),
            capture.response_body().clone(),
        )
        .ok_or(Skipped::BadStatus)?;
        let body_fp = body_fingerprint(capture.request_body());
        let key = request_key(capture.service(), capture.method(), capture.uri(), body_fp);
        let full = self.buckets.get(&key).is_some_and(|b| {
            *b.session == *capture.session_id() && b.recordings.len() >= MAX_RECORDINGS_PER_KEY
        });
        if full {
            return Err(Skipped::KeyFull);
        }
        let service = self.intern(capture.service());
        let method = self.intern(capture.method());
        let session = self.intern(capture.session_id());
        let recording = Arc::new(Recording {
            capture_id: Box::from(capture.id()),
            service: service.clone(),
            session_id: session.clone(),
            method: method.clone(),
            uri: Box::from(capture.uri()),
            normalized_uri: normalized_uri(capture.uri()).into_boxed_str(),
            body_fp,
            key,
            recorded_at_us: capture.started_at_us(),
            response,
        });
        match self.buckets.get_mut(&key) {
            Some(b) if b.session == session => b.recordings.push(recording.clone()),
            Some(b) => {
                self.live -= b.recordings.len();
                b.session = session;
                b.recordings = vec![recording.clone()];
            }
            None => {
                let (path, _) = split_query(capture.uri());
                let t = template::infer(path);
                if !t.params.is_empty() {
                    self.templates
                        .entry(TemplateKey {
                            service,
                            method,
                            template: t.template.into_boxed_str(),
                        })
                        .or_default()
                        .push(key);
                }
                self.buckets.insert(
                    key,
                    Bucket {
                        session,
                        recordings: vec![recording.clone()],
                    },
                );
            }
        }
        self.live += 1;
        self.changed.insert(key);
        self.ordered.push(recording);
        self.dirty = true;
        Ok(())
    }

    /// Whether anything changed since the last snapshot.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Number of servable recordings.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// An immutable snapshot. Unchanged keys share their entry (and replay cursor)
    /// with the previous snapshot, so a rebuild never rewinds a replay in progress.
    pub fn snapshot(&mut self) -> Library {
        for key in self.changed.drain() {
            if let Some(b) = self.buckets.get(&key) {
                let entry = ExactEntry::new(b.recordings.clone().into_boxed_slice());
                self.exact.insert(key, Arc::new(entry));
            }
        }
        self.dirty = false;
        Library {
            exact: self.exact.clone(),
            templates: self.templates.clone(),
            ordered: self.ordered.snapshot(),
            live: self.live,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use ghost_model::{CaptureParts, Redactor};

    fn capture(session: &str, uri: &str, body: &str) -> Capture {
        Redactor::default().capture(CaptureParts {
            id: format!("{session}{uri}{body}"),
            service: "svc".into(),
            session_id: session.into(),
            method: "GET".into(),
            uri: uri.into(),
            status: 200,
            response_body: Bytes::from(body.to_owned()),
            ..CaptureParts::default()
        })
    }

    fn served(lib: &Library, uri: &str) -> Bytes {
        let key = request_key("svc", "GET", uri, 0);
        lib.exact(&key).unwrap().next().response.body.clone()
    }

    #[test]
    fn replays_in_order_then_repeats_and_newer_sessions_replace() {
        let mut b = LibraryBuilder::new();
        for body in ["a", "b"] {
            b.apply(&capture("s1", "/x", body)).unwrap();
        }
        let lib = b.snapshot();
        assert_eq!(
            [served(&lib, "/x"), served(&lib, "/x"), served(&lib, "/x")],
            ["a", "b", "b"]
        );
        lib.reset_cursors();
        assert_eq!(served(&lib, "/x"), "a");

        b.apply(&capture("s2", "/x", "c")).unwrap();
        b.apply(&capture("s2", "/y", "d")).unwrap();
        let lib2 = b.snapshot();
        assert_eq!(lib2.len(), 2, "s1's recordings of /x were replaced");
        assert_eq!(served(&lib2, "/x"), "c");
        let listed: Vec<_> = lib2.recordings().map(|r| r.uri.to_string()).collect();
        assert_eq!(listed, ["/x", "/y"]);
        // The old snapshot is untouched.
        assert_eq!(lib.len(), 2);
    }

    #[test]
    fn unchanged_keys_keep_their_cursor_across_snapshots() {
        let mut b = LibraryBuilder::new();
        b.apply(&capture("s", "/x", "1")).unwrap();
        b.apply(&capture("s", "/x", "2")).unwrap();
        let lib = b.snapshot();
        assert_eq!(served(&lib, "/x"), "1");
        b.apply(&capture("s", "/other", "o")).unwrap();
        let lib = b.snapshot();
        assert_eq!(served(&lib, "/x"), "2", "the replay continued");
    }

    #[test]
    fn listing_crosses_chunk_boundaries_and_truncated_captures_are_skipped() {
        let mut b = LibraryBuilder::new();
        for i in 0..10_000 {
            b.apply(&capture("s", &format!("/users/{i}"), "x")).unwrap();
        }
        let mut truncated = capture("s", "/big", "partial").parts().clone();
        truncated.body_truncated = true;
        assert_eq!(
            b.apply(&Redactor::default().capture(truncated)),
            Err(Skipped::Truncated)
        );
        let lib = b.snapshot();
        assert_eq!(lib.len(), 10_000);
        let uris: Vec<_> = lib.recordings().map(|r| r.uri.to_string()).collect();
        assert_eq!(uris.len(), 10_000);
        assert_eq!(uris[4095], "/users/4095");
        assert_eq!(uris[4096], "/users/4096");
        assert_eq!(
            lib.recordings().next_back().unwrap().uri.as_ref(),
            "/users/9999"
        );
    }
}
