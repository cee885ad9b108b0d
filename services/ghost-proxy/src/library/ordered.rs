//! The log-ordered list of recordings, shared between snapshots in chunks.
//!
//! Snapshots are taken every 100 ms while captures stream in; copying a list of
//! 100k recordings each time would cost more than the captures themselves. Full
//! chunks are immutable and shared by every later snapshot, so a snapshot copies
//! at most one chunk plus a pointer per chunk.

use super::recording::Recording;
use std::sync::Arc;

const CHUNK: usize = 4096;

/// The growing side, owned by the builder.
#[derive(Debug, Default)]
pub(crate) struct OrderedBuilder {
    full: Vec<Arc<[Arc<Recording>]>>,
    tail: Vec<Arc<Recording>>,
}

impl OrderedBuilder {
    pub fn push(&mut self, r: Arc<Recording>) {
        self.tail.push(r);
        if self.tail.len() == CHUNK {
            let chunk: Arc<[Arc<Recording>]> = Arc::from(std::mem::take(&mut self.tail));
            self.full.push(chunk);
            self.tail.reserve(CHUNK);
        }
    }

    pub fn snapshot(&self) -> Ordered {
        Ordered {
            full: Arc::from(self.full.as_slice()),
            tail: Arc::from(self.tail.as_slice()),
        }
    }
}

/// An immutable view of the list.
#[derive(Debug, Clone, Default)]
pub struct Ordered {
    full: Arc<[Arc<[Arc<Recording>]>]>,
    tail: Arc<[Arc<Recording>]>,
}

impl Ordered {
    /// Every recording ever applied, in log order (superseded ones included).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Arc<Recording>> + Clone {
        self.full
            .iter()
            .flat_map(|c| c.iter())
            .chain(self.tail.iter())
    }
}
