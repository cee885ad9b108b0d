//! A record of answered requests for callers that report on a run
//! (`ghost replay --strict`, `--junit`, `ghost record`'s summary), in or out
//! of process. A caller opens a window, the proxy appends every request it
//! answers to each open window, and the caller closes it to collect them.
//!
//! Nothing is built while no window is open: the request path pays one atomic
//! load. Windows are bounded (entries past the cap are counted, not kept) and
//! few (opening one past the limit closes the oldest), so a caller that dies
//! without closing its window cannot grow the proxy's memory.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Entries one window keeps; later ones are counted in `dropped`.
pub const WINDOW_CAPACITY: usize = 1 << 16;
/// Windows open at once; opening another closes the oldest.
pub const MAX_WINDOWS: usize = 16;

/// One answered request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// The service that handled it (`None`: none routed it).
    pub service: Option<String>,
    pub method: String,
    /// Path and query as the client sent them.
    pub target: String,
    pub status: u16,
    /// How it was answered: `exact`, `smart-swap`, `miss`, `learn`,
    /// `passthrough`, `transitioning`, `error`.
    pub answer: &'static str,
    pub duration: Duration,
}

/// What a closed window collected.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Collected {
    pub served: Vec<Served>,
    /// Requests answered while the window was full.
    pub dropped: u64,
}

/// The proxy's journal: a set of open windows.
#[derive(Debug, Default)]
pub struct Journal {
    /// Whether any window is open (read on every request).
    active: AtomicBool,
    next_id: AtomicU64,
    windows: Mutex<BTreeMap<u64, Collected>>,
}

impl Journal {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Collected>> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a window; every request answered from now on is added to it.
    pub fn open(&self) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let mut windows = self.lock();
        while windows.len() >= MAX_WINDOWS {
            if let Some((old, _)) = windows.pop_first() {
                tracing::warn!(window = old, "journal window closed: too many open");
            }
        }
        windows.insert(id, Collected::default());
        self.active.store(true, Ordering::Release);
        id
    }

    /// What window `id` holds so far, if it is open.
    pub fn peek(&self, id: u64) -> Option<Collected> {
        self.lock().get(&id).cloned()
    }

    /// Closes window `id` and returns what it collected (`None`: not open).
    pub fn close(&self, id: u64) -> Option<Collected> {
        let mut windows = self.lock();
        let out = windows.remove(&id);
        self.active.store(!windows.is_empty(), Ordering::Release);
        out
    }

    /// Whether a request should be described at all.
    pub(crate) fn active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    pub(crate) fn record(&self, served: Served) {
        let mut windows = self.lock();
        let mut dropped = false;
        for w in windows.values_mut() {
            if w.served.len() < WINDOW_CAPACITY {
                w.served.push(served.clone());
            } else {
                w.dropped += 1;
                dropped = true;
            }
        }
        if dropped {
            metrics::counter!(crate::metrics::JOURNAL_DROPPED_TOTAL).increment(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(n: u16) -> Served {
        Served {
            service: None,
            method: "GET".into(),
            target: format!("/{n}"),
            status: n,
            answer: "exact",
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn windows_see_only_what_came_after_they_opened() {
        let j = Journal::new();
        assert!(!j.active());
        let a = j.open();
        j.record(served(1));
        let b = j.open();
        j.record(served(2));
        assert_eq!(j.close(a).unwrap().served, vec![served(1), served(2)]);
        assert!(j.active());
        assert_eq!(j.peek(b).unwrap().served, vec![served(2)]);
        assert_eq!(j.close(b).unwrap().served, vec![served(2)]);
        assert!(!j.active());
        assert_eq!(j.close(b), None);
    }

    #[test]
    fn a_full_window_counts_instead_of_growing() {
        let j = Journal::new();
        let a = j.open();
        for _ in 0..WINDOW_CAPACITY + 3 {
            j.record(served(1));
        }
        let got = j.close(a).unwrap();
        assert_eq!(got.served.len(), WINDOW_CAPACITY);
        assert_eq!(got.dropped, 3);
    }

    #[test]
    fn opening_past_the_limit_closes_the_oldest() {
        let j = Journal::new();
        let first = j.open();
        for _ in 0..MAX_WINDOWS {
            j.open();
        }
        assert_eq!(j.peek(first), None);
        assert_eq!(j.lock().len(), MAX_WINDOWS);
    }
}
