//! Compaction of compacted topics: closed segments are rewritten keeping only the
//! newest record per key across the whole partition.
//!
//! Choices:
//! - Only closed segments are rewritten; the active segment is never touched, so the
//!   writer and compaction never write the same file.
//! - Offsets are preserved: a rewritten segment keeps its base offset and its records
//!   keep theirs, leaving gaps that readers skip.
//! - Records without a key are kept (they cannot be superseded).
//! - The newest tombstone of a key is kept, like any newest record: readers that
//!   rebuild state from the start still learn the key was deleted. Tombstones are
//!   never expired (Kafka's `delete.retention.ms` is not implemented).
//! - A rewrite goes to `<base>.tmp`, is fsynced and renamed over the segment, so a
//!   crash leaves the old or the new segment; stale `.tmp` files are removed on open.
//!   Readers that already hold the old file handle keep reading the old inode.
//! - The newest-offset map holds every key of the partition in memory: fine for the
//!   bounded key spaces compacted topics are used for.

use super::frame;
use super::fsutil::{io_err, sync_dir};
use super::partition::{Partition, Shared};
use super::segment::{self, FrameReader, ReadSpan, Scan, Segment};
use crate::{LogError, Record, StoredRecord};
use bytes::Bytes;
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::sync::Arc;

impl Partition {
    /// Compacts this partition's closed segments now.
    pub(crate) async fn compact(&self) -> Result<(), LogError> {
        let _running = self.compaction.lock().await;
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || compact_blocking(&shared))
            .await
            .map_err(|e| LogError::Backend(format!("compaction task failed: {e}")))?
    }
}

fn compact_blocking(shared: &Shared) -> Result<(), LogError> {
    let spans: Vec<(u64, ReadSpan)> = {
        let view = shared.view();
        if view.segments.len() < 2 {
            return Ok(());
        }
        view.segments
            .iter()
            .map(|s| (s.base, s.span_from(0)))
            .collect()
    };
    let mut newest: HashMap<Bytes, u64> = HashMap::new();
    for (_, span) in &spans {
        for_each_record(shared, span, |record| {
            if let Some(key) = record.key {
                newest.insert(key, record.offset);
            }
        })?;
    }
    let closed = &spans[..spans.len() - 1];
    for (base, span) in closed {
        let mut kept = Vec::new();
        let mut dropped = 0usize;
        for_each_record(shared, span, |record| {
            let superseded = record
                .key
                .as_ref()
                .is_some_and(|k| newest.get(k).is_some_and(|&n| n != record.offset));
            if superseded {
                dropped += 1
            } else {
                kept.push(record)
            }
        })?;
        if dropped == 0 {
            continue;
        }
        if kept.is_empty() {
            remove_segment(shared, *base, span)?;
        } else {
            rewrite_segment(shared, *base, kept)?;
        }
        tracing::debug!(
            topic = %shared.topic,
            partition = shared.id,
            base,
            dropped,
            "compacted segment"
        );
    }
    Ok(())
}

fn for_each_record(
    shared: &Shared,
    span: &ReadSpan,
    mut f: impl FnMut(StoredRecord),
) -> Result<(), LogError> {
    let mut reader = FrameReader::new(
        &span.file,
        &span.path,
        shared.id,
        shared.max_body,
        0,
        span.len,
    );
    loop {
        match reader.next()? {
            Scan::End => return Ok(()),
            Scan::Record { record, .. } => f(record),
            Scan::Bad { pos, reason } => {
                return Err(segment::corrupt(
                    &span.path,
                    format!("at byte {pos}: {reason}"),
                ));
            }
        }
    }
}

/// Drops a segment none of whose records survive. The view is updated first so new
/// readers never look for the file.
fn remove_segment(shared: &Shared, base: u64, span: &ReadSpan) -> Result<(), LogError> {
    shared.view_mut().segments.retain(|s| s.base != base);
    fs::remove_file(&span.path).map_err(io_err("remove compacted segment", &span.path))?;
    sync_dir(&shared.dir)
}

fn rewrite_segment(shared: &Shared, base: u64, kept: Vec<StoredRecord>) -> Result<(), LogError> {
    let path = segment::segment_path(&shared.dir, base);
    let tmp = path.with_extension("tmp");
    let mut buf = Vec::new();
    let mut index = Vec::new();
    for stored in kept {
        Segment::note_frame(&mut index, stored.offset, buf.len() as u64);
        let offset = stored.offset;
        let record = Record {
            key: stored.key,
            value: stored.value,
            headers: stored.headers,
            timestamp_ms: stored.timestamp_ms,
        };
        frame::encode(offset, &record, &mut buf);
    }
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(io_err("create compacted segment", &tmp))?;
    file.write_all(&buf)
        .map_err(io_err("write compacted segment", &tmp))?;
    file.sync_all()
        .map_err(io_err("fsync compacted segment", &tmp))?;
    fs::rename(&tmp, &path).map_err(io_err("rename compacted segment", &path))?;
    sync_dir(&shared.dir)?;
    let mut view = shared.view_mut();
    if let Some(seg) = view.segments.iter_mut().find(|s| s.base == base) {
        seg.file = Arc::new(file);
        seg.len = buf.len() as u64;
        seg.index = index;
    }
    Ok(())
}
