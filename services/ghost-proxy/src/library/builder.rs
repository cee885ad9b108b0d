//! Folds captures, in log order, into the library and produces snapshots.

use super::recording::{MockResponse, Recording};
use super::{ExactEntry, ExactMap, Library, TemplateKey};
use ghost_model::Capture;
use ghost_model::fingerprint::{
    RequestKey, body_fingerprint, normalized_uri, request_key, split_query,
};
use ghost_model::template;
use std::collections::HashMap;
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

/// The mutable side of the library, owned by the materializer.
#[derive(Debug, Default)]
pub struct LibraryBuilder {
    exact: ExactMap,
    templates: HashMap<TemplateKey, Vec<RequestKey>>,
    ordered: Vec<Arc<Recording>>,
    /// Interned service and method names: thousands of recordings share a few.
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

        let recordings: Box<[Arc<Recording>]> = match self.exact.get(&key) {
            Some(e) if *e.recordings()[0].session_id == *session => {
                if e.recordings().len() >= MAX_RECORDINGS_PER_KEY {
                    return Err(Skipped::KeyFull);
                }
                e.recordings()
                    .iter()
                    .cloned()
                    .chain([recording.clone()])
                    .collect()
            }
            Some(old) => {
                // Superseded: drop the old session's recordings from the listing too.
                let stale: Vec<*const Recording> =
                    old.recordings().iter().map(Arc::as_ptr).collect();
                self.ordered.retain(|r| !stale.contains(&Arc::as_ptr(r)));
                Box::new([recording.clone()])
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
                Box::new([recording.clone()])
            }
        };
        self.exact
            .insert(key, Arc::new(ExactEntry::new(recordings)));
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
        self.ordered.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ordered.is_empty()
    }

    /// An immutable snapshot. Unchanged keys share their entry (and replay cursor)
    /// with the previous snapshot, so a rebuild never rewinds a replay in progress.
    pub fn snapshot(&mut self) -> Library {
        self.dirty = false;
        Library {
            exact: self.exact.clone(),
            templates: self.templates.clone(),
            ordered: Arc::from(self.ordered.as_slice()),
        }
    }
}
