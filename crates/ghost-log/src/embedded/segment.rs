//! Segment files: naming, the in-memory sparse index, sequential frame reading with
//! `pread`, and the recovery scan of a partition directory on open.

use super::frame::{self, FrameError, HEADER_LEN};
use super::fsutil::io_err;
use crate::{LogError, StoredRecord};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A sparse index entry is kept every this many bytes, so finding an offset reads at
/// most this much extra while the index costs 16 bytes per 4 KiB of log.
pub(crate) const INDEX_INTERVAL: u64 = 4096;
/// Bytes fetched per `pread` while scanning.
const READ_CHUNK: usize = 64 * 1024;
const SUFFIX: &str = "seg";

/// `<20-digit base offset>.seg`: zero-padded so a directory listing sorts by offset.
pub(crate) fn segment_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}.{SUFFIX}"))
}

/// The base offset in a segment file name, `None` for anything else.
pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".seg")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `(first offset in the entry's span, file position of its frame)`.
pub(crate) type IndexEntry = (u64, u64);

/// What readers know about one segment. `len` only covers acknowledged frames, so a
/// reader never sees a record whose append has not completed.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub base: u64,
    pub path: PathBuf,
    /// Opened once and shared; compaction swaps in a new handle, and readers holding
    /// the old one keep reading the old (unlinked) inode consistently.
    pub file: Arc<File>,
    pub len: u64,
    pub index: Vec<IndexEntry>,
}

impl Segment {
    /// The file position to start scanning from to find the first offset `>= from`.
    pub(crate) fn position_for(&self, from: u64) -> u64 {
        let i = self.index.partition_point(|&(offset, _)| offset <= from);
        if i == 0 { 0 } else { self.index[i - 1].1 }
    }

    /// What a reader needs to scan this segment from `from` on, without the index.
    pub(crate) fn span_from(&self, from: u64) -> ReadSpan {
        ReadSpan {
            file: Arc::clone(&self.file),
            path: self.path.clone(),
            pos: self.position_for(from),
            len: self.len,
        }
    }

    /// Records a frame in the sparse index if it is far enough from the last entry.
    pub(crate) fn note_frame(index: &mut Vec<IndexEntry>, offset: u64, pos: u64) {
        if index.last().is_none_or(|&(_, p)| pos >= p + INDEX_INTERVAL) {
            index.push((offset, pos));
        }
    }
}

/// A segment snapshot taken under the view lock and read after releasing it.
pub(crate) struct ReadSpan {
    pub file: Arc<File>,
    pub path: PathBuf,
    pub pos: u64,
    pub len: u64,
}

/// One step of a sequential scan.
pub(crate) enum Scan {
    Record {
        record: StoredRecord,
        pos: u64,
        len: u64,
    },
    End,
    /// Bytes at `pos` are not a complete valid frame.
    Bad {
        pos: u64,
        reason: String,
    },
}

/// Reads frames one after another from `[pos, end)` of a file, a chunk at a time.
pub(crate) struct FrameReader<'a> {
    file: &'a File,
    path: &'a Path,
    partition: u32,
    max_body: usize,
    pos: u64,
    end: u64,
    buf: Vec<u8>,
    buf_start: u64,
}

impl<'a> FrameReader<'a> {
    pub(crate) fn new(
        file: &'a File,
        path: &'a Path,
        partition: u32,
        max_body: usize,
        pos: u64,
        end: u64,
    ) -> Self {
        Self {
            file,
            path,
            partition,
            max_body,
            pos,
            end,
            buf: Vec::new(),
            buf_start: pos,
        }
    }

    /// Makes `[pos, pos + n)` available in `buf`; the caller has checked it is below `end`.
    fn fill(&mut self, n: usize) -> Result<&[u8], LogError> {
        let have_from = self.pos.checked_sub(self.buf_start);
        let cached = have_from.is_some_and(|off| off as usize + n <= self.buf.len());
        if !cached {
            let want = (self.end - self.pos).min(n.max(READ_CHUNK) as u64) as usize;
            self.buf.resize(want, 0);
            self.file
                .read_exact_at(&mut self.buf, self.pos)
                .map_err(io_err("read segment", self.path))?;
            self.buf_start = self.pos;
        }
        let off = (self.pos - self.buf_start) as usize;
        Ok(&self.buf[off..off + n])
    }

    pub(crate) fn next(&mut self) -> Result<Scan, LogError> {
        let remaining = self.end.saturating_sub(self.pos);
        if remaining == 0 {
            return Ok(Scan::End);
        }
        let pos = self.pos;
        let bad = |reason: String| Ok(Scan::Bad { pos, reason });
        if remaining < HEADER_LEN as u64 {
            return bad(format!("truncated frame header ({remaining} bytes)"));
        }
        let max_body = self.max_body;
        let len = match frame::frame_len(self.fill(HEADER_LEN)?, max_body) {
            Ok(len) => len,
            Err(e) => return bad(describe(e)),
        };
        if len as u64 > remaining {
            return bad(format!("truncated frame: {len} bytes, {remaining} left"));
        }
        let partition = self.partition;
        match frame::decode(self.fill(len)?, partition, max_body) {
            Ok((record, len)) => {
                self.pos += len as u64;
                Ok(Scan::Record {
                    record,
                    pos,
                    len: len as u64,
                })
            }
            Err(e) => bad(describe(e)),
        }
    }
}

fn describe(e: FrameError) -> String {
    match e {
        FrameError::Incomplete { needed } => format!("frame needs {needed} bytes"),
        FrameError::Invalid(why) => why,
    }
}

/// Creates an empty segment file for `base` and fsyncs its directory entry.
pub(crate) fn create_segment(dir: &Path, base: u64) -> Result<Segment, LogError> {
    let path = segment_path(dir, base);
    let file = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io_err("create segment", &path))?;
    super::fsutil::sync_dir(dir)?;
    Ok(Segment {
        base,
        path,
        file: Arc::new(file),
        len: 0,
        index: Vec::new(),
    })
}

pub(crate) fn corrupt(path: &Path, detail: String) -> LogError {
    LogError::Corrupt {
        path: path.display().to_string(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_round_trip_and_reject_others() {
        let path = segment_path(Path::new("/d"), 42);
        let name = path.file_name().unwrap().to_str().unwrap();
        assert_eq!(name, "00000000000000000042.seg");
        assert_eq!(parse_segment_name(name), Some(42));
        for other in [
            "42.seg",
            "00000000000000000042.tmp",
            "0000000000000000004x.seg",
            "LOCK",
        ] {
            assert_eq!(parse_segment_name(other), None, "{other}");
        }
    }

    #[test]
    fn sparse_index_finds_the_entry_at_or_before_an_offset() {
        let mut index = Vec::new();
        for (offset, pos) in [(10, 0), (11, 100), (12, 5000), (20, 9200), (30, 9300)] {
            Segment::note_frame(&mut index, offset, pos);
        }
        assert_eq!(index, vec![(10, 0), (12, 5000), (20, 9200)]);
        let file = tempfile::tempfile().unwrap();
        let seg = Segment {
            base: 10,
            path: PathBuf::from("x"),
            file: Arc::new(file),
            len: 9400,
            index,
        };
        assert_eq!(seg.position_for(0), 0);
        assert_eq!(seg.position_for(11), 0);
        assert_eq!(seg.position_for(12), 5000);
        assert_eq!(seg.position_for(19), 5000);
        assert_eq!(seg.position_for(35), 9200);
    }
}
