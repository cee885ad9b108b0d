//! Configuration of the embedded log: where it lives and how hard it syncs.

use std::path::PathBuf;
use std::time::Duration;

/// Default size at which the active segment of a partition is closed and a new one
/// started. Big enough that a partition has few files, small enough that compaction
/// (which only rewrites closed segments) gets to run on busy compacted topics.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Default cap on one record's encoded size. Bounds what a reader allocates for one
/// frame, so a corrupt length field can never make us allocate gigabytes.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 32 * 1024 * 1024;

/// Default background fsync period for [`FsyncPolicy::Interval`].
pub const DEFAULT_FSYNC_INTERVAL: Duration = Duration::from_millis(200);

/// When appended data is flushed to stable storage.
///
/// Whatever the policy, an append made with [`crate::Durability::Synced`] is fsynced
/// before it is acknowledged, and [`super::EmbeddedLog::flush`] fsyncs everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Fsync every group commit before acknowledging it: nothing acknowledged is lost
    /// on power failure, at the cost of one fsync per batch of appends.
    Always,
    /// Fsync in the background at most once per period when something was written:
    /// a machine crash loses at most about one period of acknowledged appends. A zero
    /// period means [`FsyncPolicy::Always`].
    Interval(Duration),
    /// Leave flushing of the active segment to the OS (tests, throwaway data). A
    /// segment is still fsynced when it is closed, so a crash can only tear the last
    /// segment, which recovery repairs.
    Never,
}

impl FsyncPolicy {
    /// Whether every group commit is fsynced before it is acknowledged.
    pub(crate) fn syncs_every_commit(self) -> bool {
        match self {
            FsyncPolicy::Always => true,
            FsyncPolicy::Interval(period) => period.is_zero(),
            FsyncPolicy::Never => false,
        }
    }
}

impl Default for FsyncPolicy {
    fn default() -> Self {
        FsyncPolicy::Interval(DEFAULT_FSYNC_INTERVAL)
    }
}

/// How to open an [`super::EmbeddedLog`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedConfig {
    /// Data directory; created if missing. Holds `topics/` and `groups/`, and a `LOCK`
    /// file so two processes never write the same log.
    pub dir: PathBuf,
    /// When appends reach stable storage (see [`FsyncPolicy`]).
    pub fsync: FsyncPolicy,
    /// The active segment is closed once the next record would push it past this many
    /// bytes (a segment always holds at least one record).
    pub segment_bytes: u64,
    /// Largest encoded record (key + value + headers + fixed fields) accepted by
    /// `append` and believed by the reader; larger appends fail with
    /// [`crate::LogError::RecordTooLarge`]. Lowering it below the size of records
    /// already stored makes those records read as corrupt (open refuses rather than
    /// truncating them away).
    pub max_record_bytes: usize,
}

impl EmbeddedConfig {
    /// A config for `dir` with the defaults: fsync every 200 ms, 64 MiB segments,
    /// 32 MiB records.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            fsync: FsyncPolicy::default(),
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }

    pub fn with_fsync(mut self, fsync: FsyncPolicy) -> Self {
        self.fsync = fsync;
        self
    }

    pub fn with_segment_bytes(mut self, segment_bytes: u64) -> Self {
        self.segment_bytes = segment_bytes;
        self
    }

    pub fn with_max_record_bytes(mut self, max_record_bytes: usize) -> Self {
        self.max_record_bytes = max_record_bytes;
        self
    }

    /// The record limit actually enforced: the frame stores the body length in a
    /// `u32`, so a larger configured limit is capped there.
    pub(crate) fn record_limit(&self) -> usize {
        self.max_record_bytes.min(u32::MAX as usize)
    }
}
