//! The mock library: an immutable, in-memory index of recorded exchanges.
//!
//! [`LibraryBuilder`] folds captures (in log order) into buckets; [`Library`] is a
//! cheap snapshot of it that the request path reads through an `ArcSwap`. Nothing
//! here does I/O, so the matching rules are tested directly.
//!
//! Matching is cheapest first: the exact key (service, method, normalized URI, body
//! fingerprint) is one hash lookup of a 128-bit key; smart swap looks up the path
//! template; a miss scans the service's recordings to explain itself (misses only).

mod builder;
mod miss;
mod ordered;
pub mod recording;
mod swap;

pub use builder::LibraryBuilder;
pub use miss::{MissCandidate, MissReport};
pub use ordered::Ordered;
pub use recording::{MockResponse, Recording};

use ghost_model::fingerprint::RequestKey;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// All recordings of one exact key from the newest LEARN session that recorded it,
/// replayed in recorded order; after the last one, the last one repeats.
#[derive(Debug)]
pub struct ExactEntry {
    recordings: Box<[Arc<Recording>]>,
    cursor: AtomicUsize,
}

impl ExactEntry {
    fn new(recordings: Box<[Arc<Recording>]>) -> Self {
        Self {
            recordings,
            cursor: AtomicUsize::new(0),
        }
    }

    /// The recording to serve next (advances the replay cursor).
    pub fn next(&self) -> &Arc<Recording> {
        let last = self.recordings.len() - 1;
        if last == 0 {
            return &self.recordings[0];
        }
        // Relaxed is enough: the cursor only orders replays of this one key.
        let i = self.cursor.fetch_add(1, Ordering::Relaxed).min(last);
        if i == last {
            // Keep the counter from creeping towards overflow under endless polling.
            self.cursor.store(last, Ordering::Relaxed);
        }
        &self.recordings[i]
    }

    pub fn recordings(&self) -> &[Arc<Recording>] {
        &self.recordings
    }

    fn reset(&self) {
        self.cursor.store(0, Ordering::Relaxed);
    }
}

/// Hashes a [`RequestKey`] by taking its low 64 bits: the key already is a
/// uniform 128-bit hash, so hashing it again (SipHash) would only cost time on
/// every MOCK request.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached for non-u128 input; fold it in so the hasher stays correct.
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(buf);
        }
    }

    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

pub(crate) type ExactMap =
    HashMap<RequestKey, Arc<ExactEntry>, std::hash::BuildHasherDefault<KeyHasher>>;

/// Key of the smart-swap index: same service, method and path template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TemplateKey {
    service: Arc<str>,
    method: Arc<str>,
    template: Box<str>,
}

/// How the cascade after the exact stage answered.
#[derive(Debug)]
pub enum Match {
    /// Served from a recording of the same template with the ids swapped.
    SmartSwap {
        recording: Arc<Recording>,
        body: bytes::Bytes,
    },
    /// Nothing fits; the report explains why.
    Miss(MissReport),
}

/// An immutable snapshot of the library.
#[derive(Debug, Default, Clone)]
pub struct Library {
    exact: ExactMap,
    templates: HashMap<TemplateKey, Vec<RequestKey>>,
    /// Every recording in log order, for listings and miss reports.
    ordered: Ordered,
    /// Servable recordings (superseded ones excluded).
    live: usize,
}

impl Library {
    /// Number of servable recordings.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Servable recordings in log order (recordings a newer session replaced are
    /// left out).
    pub fn recordings(&self) -> impl DoubleEndedIterator<Item = &Arc<Recording>> + Clone {
        self.ordered.iter().filter(|r| self.is_live(r))
    }

    /// Whether `r` is still served (not replaced by a newer session's recording).
    pub fn is_live(&self, r: &Arc<Recording>) -> bool {
        // A key's entry holds exactly the recordings of the newest session that
        // recorded it, so session equality is membership.
        self.exact
            .get(&r.key)
            .is_some_and(|e| e.recordings()[0].session_id == r.session_id)
    }

    /// The exact hit for a request key, if any.
    pub fn exact(&self, key: &RequestKey) -> Option<&Arc<ExactEntry>> {
        self.exact.get(key)
    }

    /// Rewinds every replay cursor (a new MOCK session replays from the start).
    pub fn reset_cursors(&self) {
        for e in self.exact.values() {
            e.reset();
        }
    }

    /// Runs the cascade after the exact stage: smart swap, then a miss report.
    pub fn fallback(
        &self,
        service: &str,
        method: &str,
        path_and_query: &str,
        body_fp: u128,
    ) -> Match {
        if let Some((recording, body)) =
            swap::smart_swap(self, service, method, path_and_query, body_fp)
        {
            return Match::SmartSwap { recording, body };
        }
        Match::Miss(miss::explain(
            self,
            service,
            method,
            path_and_query,
            body_fp,
        ))
    }
}
