//! An optional record of every answered request, for callers that report on a
//! run (`ghost replay --strict`, `--junit`). Off unless configured; when full,
//! entries are dropped rather than slowing requests down (and counted).

use std::time::Duration;
use tokio::sync::mpsc;

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

/// Where the proxy reports answered requests.
#[derive(Debug, Clone)]
pub struct Journal {
    tx: mpsc::Sender<Served>,
}

impl Journal {
    /// A journal holding up to `capacity` unread entries.
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<Served>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self { tx }, rx)
    }

    pub(crate) fn record(&self, served: Served) {
        if self.tx.try_send(served).is_err() {
            metrics::counter!(crate::metrics::JOURNAL_DROPPED_TOTAL).increment(1);
        }
    }
}
