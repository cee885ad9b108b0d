//! Recovery of a partition directory on open: every segment is scanned and indexed,
//! a torn tail of the last segment is cut off, corruption anywhere else is an error.

use super::fsutil::io_err;
use super::segment::{
    FrameReader, Scan, Segment, corrupt, create_segment, parse_segment_name, segment_path,
};
use crate::LogError;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A partition directory after recovery: its segments in offset order and the offset
/// the next append gets.
pub(crate) struct Recovered {
    pub segments: Vec<Segment>,
    pub next_offset: u64,
}

/// Opens (creating if needed) a partition directory and scans every segment.
///
/// A bad frame in the last segment is a torn write from a crash: the file is cut back
/// to the last good frame. Anything bad in an earlier segment was once complete and
/// synced, so it is reported as [`LogError::Corrupt`] instead of silently dropped.
pub(crate) fn recover(dir: &Path, partition: u32, max_body: usize) -> Result<Recovered, LogError> {
    fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
    let mut bases = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err("list directory", dir))? {
        let entry = entry.map_err(io_err("list directory", dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(base) = parse_segment_name(&name) {
            bases.push(base);
        } else if name.ends_with(".tmp") {
            // An interrupted compaction rewrite; the original segment is intact.
            let path = entry.path();
            fs::remove_file(&path).map_err(io_err("remove stale temp file", &path))?;
        }
    }
    bases.sort_unstable();
    if bases.is_empty() {
        let seg = create_segment(dir, 0)?;
        return Ok(Recovered {
            segments: vec![seg],
            next_offset: 0,
        });
    }
    let mut segments = Vec::with_capacity(bases.len());
    let mut next_offset = 0;
    let last = bases.len() - 1;
    for (i, base) in bases.into_iter().enumerate() {
        let path = segment_path(dir, base);
        if base < next_offset {
            return Err(corrupt(
                &path,
                format!("base offset overlaps the previous segment ending at {next_offset}"),
            ));
        }
        let (seg, end) = scan_segment(path, base, partition, max_body, i == last)?;
        next_offset = end;
        segments.push(seg);
    }
    Ok(Recovered {
        segments,
        next_offset,
    })
}

/// Scans one segment, returning it with its index and the offset after its last record.
fn scan_segment(
    path: PathBuf,
    base: u64,
    partition: u32,
    max_body: usize,
    is_last: bool,
) -> Result<(Segment, u64), LogError> {
    let file = File::options()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io_err("open segment", &path))?;
    let file_len = file
        .metadata()
        .map_err(io_err("stat segment", &path))?
        .len();
    let mut index = Vec::new();
    let mut next = base;
    let mut good_end = 0;
    let mut reader = FrameReader::new(&file, &path, partition, max_body, 0, file_len);
    loop {
        match reader.next()? {
            Scan::End => break,
            Scan::Record { record, pos, len } => {
                if record.offset < next {
                    return Err(corrupt(
                        &path,
                        format!(
                            "offset {} at byte {pos} is not after {}",
                            record.offset,
                            next.saturating_sub(1)
                        ),
                    ));
                }
                Segment::note_frame(&mut index, record.offset, pos);
                next = record.offset + 1;
                good_end = pos + len;
            }
            Scan::Bad { pos, reason } if is_last => {
                if holds_oversized_record(&file, &path, partition, pos, file_len)? {
                    return Err(corrupt(
                        &path,
                        format!(
                            "at byte {pos}: {reason}; the record is intact, so \
                             max_record_bytes was probably lowered: raise it to open this log"
                        ),
                    ));
                }
                tracing::warn!(
                    path = %path.display(),
                    pos,
                    dropped_bytes = file_len - pos,
                    %reason,
                    "truncating torn tail of segment"
                );
                file.set_len(pos)
                    .map_err(io_err("truncate torn tail", &path))?;
                file.sync_all().map_err(io_err("fsync", &path))?;
                break;
            }
            Scan::Bad { pos, reason } => {
                return Err(corrupt(&path, format!("at byte {pos}: {reason}")));
            }
        }
    }
    let seg = Segment {
        base,
        path,
        file: Arc::new(file),
        len: good_end,
        index,
    };
    Ok((seg, next))
}

/// Whether the bytes at `pos` are a complete, CRC-valid frame that only failed the
/// record limit. Truncating those would destroy acknowledged records because of a
/// configuration change. The read is bounded by the file's size.
fn holds_oversized_record(
    file: &File,
    path: &Path,
    partition: u32,
    pos: u64,
    file_len: u64,
) -> Result<bool, LogError> {
    let mut reader = FrameReader::new(file, path, partition, u32::MAX as usize, pos, file_len);
    Ok(matches!(reader.next()?, Scan::Record { .. }))
}
