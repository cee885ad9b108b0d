//! The per-partition writer task: group commit of queued appends, segment rolling,
//! and the background fsync of [`FsyncPolicy::Interval`].
//!
//! Appends arrive on a bounded channel. The task drains everything queued, writes it
//! with one `pwrite` per segment touched, fsyncs once if the policy or any of the
//! appends asks for it, then publishes the new end offset and acknowledges. The file
//! work runs on the blocking pool; the writer state moves there and back.

use super::config::FsyncPolicy;
use super::frame::{self, HEADER_LEN};
use super::fsutil::{DirLock, io_err};
use super::partition::Shared;
use super::segment::{self, INDEX_INTERVAL, Segment};
use crate::{Ack, Durability, LogError, Record};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Interval, MissedTickBehavior};

/// Most requests taken off the queue for one group commit.
const MAX_BATCH: usize = 1024;

pub(crate) enum Request {
    Append(Append),
    /// Several records of one caller, acknowledged together in their order: one
    /// queue slot and one reply instead of one of each per record.
    AppendMany(AppendMany),
    /// Fsync what has been written (for `EmbeddedLog::flush`).
    Sync {
        reply: oneshot::Sender<Result<(), LogError>>,
    },
}

pub(crate) struct Append {
    pub record: Record,
    pub durability: Durability,
    pub reply: oneshot::Sender<Result<Ack, LogError>>,
}

pub(crate) struct AppendMany {
    pub records: Vec<Record>,
    pub durability: Durability,
    pub reply: oneshot::Sender<Vec<Result<Ack, LogError>>>,
}

/// Where one record's result goes once its group commit is done.
enum ReplyTo {
    One(oneshot::Sender<Result<Ack, LogError>>),
    /// Pushed onto the results of `groups[i]`, in record order.
    Group(usize),
}

/// Owns the active segment of one partition. Only this writer ever writes to it.
pub(crate) struct Writer {
    shared: Arc<Shared>,
    active: Arc<File>,
    active_base: u64,
    active_len: u64,
    last_index_pos: Option<u64>,
    next_offset: u64,
    /// Written but not yet fsynced.
    dirty: bool,
    /// Set when a write or fsync failed in a way that leaves the file state unknown;
    /// from then on every append fails rather than risk acknowledging lost data.
    broken: Option<String>,
    policy: FsyncPolicy,
    segment_bytes: u64,
    /// The frames of one commit, kept between commits so a steady stream of
    /// batches does not reallocate (and fault in fresh pages) every time.
    buf: Vec<u8>,
}

/// Capacity of the commit buffer kept after a commit; a rare huge batch's
/// buffer is released rather than pinned.
const KEEP_BUF: usize = 1 << 20;

impl Writer {
    /// A writer continuing after the last (active) segment of a recovered partition.
    pub(crate) fn new(
        shared: Arc<Shared>,
        policy: FsyncPolicy,
        segment_bytes: u64,
    ) -> Result<Writer, LogError> {
        let (active, active_base, active_len, last_index_pos, next_offset) = {
            let view = shared.view();
            let Some(seg) = view.segments.last() else {
                return Err(LogError::Backend(format!(
                    "partition {} of `{}` has no segment",
                    shared.id, shared.topic
                )));
            };
            let last_pos = seg.index.last().map(|&(_, pos)| pos);
            (Arc::clone(&seg.file), seg.base, seg.len, last_pos, view.end)
        };
        Ok(Writer {
            shared,
            active,
            active_base,
            active_len,
            last_index_pos,
            next_offset,
            dirty: false,
            broken: None,
            policy,
            segment_bytes,
            buf: Vec::new(),
        })
    }

    fn handle(&mut self, work: Work) {
        match work {
            Work::Batch(requests) => {
                let mut records = Vec::with_capacity(requests.len());
                let mut replies = Vec::with_capacity(requests.len());
                let mut groups = Vec::new();
                let mut syncs = Vec::new();
                for request in requests {
                    match request {
                        Request::Append(a) => {
                            records.push((a.record, a.durability));
                            replies.push(ReplyTo::One(a.reply));
                        }
                        Request::AppendMany(m) => {
                            let group = groups.len();
                            groups.push((m.reply, Vec::with_capacity(m.records.len())));
                            for record in m.records {
                                records.push((record, m.durability));
                                replies.push(ReplyTo::Group(group));
                            }
                        }
                        Request::Sync { reply } => syncs.push(reply),
                    }
                }
                let results = self.append_batch(records);
                for (reply, result) in replies.into_iter().zip(results) {
                    match reply {
                        ReplyTo::One(tx) => {
                            let _ = tx.send(result);
                        }
                        ReplyTo::Group(i) => {
                            if let Some((_, out)) = groups.get_mut(i) {
                                out.push(result);
                            }
                        }
                    }
                }
                for (tx, out) in groups {
                    let _ = tx.send(out);
                }
                if !syncs.is_empty() {
                    let result = self.sync();
                    for reply in syncs {
                        let _ = reply.send(result.as_ref().map(|_| ()).map_err(fan_out));
                    }
                }
            }
            Work::Sync => {
                if let Err(e) = self.sync() {
                    tracing::error!(
                        topic = %self.shared.topic,
                        partition = self.shared.id,
                        error = %e,
                        "background fsync failed"
                    );
                }
            }
        }
    }

    /// Appends records in order; one result per record, in the same order.
    fn append_batch(&mut self, appends: Vec<(Record, Durability)>) -> Vec<Result<Ack, LogError>> {
        let mut buf = std::mem::take(&mut self.buf);
        let results = self.append_into(appends, &mut buf);
        if buf.capacity() <= KEEP_BUF {
            buf.clear();
            self.buf = buf;
        }
        results
    }

    fn append_into(
        &mut self,
        appends: Vec<(Record, Durability)>,
        buf: &mut Vec<u8>,
    ) -> Vec<Result<Ack, LogError>> {
        let mut results = Vec::with_capacity(appends.len());
        let mut pending = appends.into_iter().peekable();
        while pending.peek().is_some() {
            if let Some(why) = &self.broken {
                let e = LogError::Backend(format!(
                    "partition writer stopped after an earlier failure: {why}"
                ));
                fail(&mut results, pending.len(), &e);
                return results;
            }
            buf.clear();
            let mut acks = Vec::new();
            let mut index = Vec::new();
            let mut want_sync = self.policy.syncs_every_commit();
            let limit = self.segment_bytes;
            let fits = |pos: u64, record: &Record| {
                let len = (HEADER_LEN + frame::body_len(record)) as u64;
                pos == 0 || pos + len <= limit
            };
            while let Some((record, durability)) =
                pending.next_if(|(r, _)| fits(self.active_len + buf.len() as u64, r))
            {
                let pos = self.active_len + buf.len() as u64;
                let offset = self.next_offset + acks.len() as u64;
                if self
                    .last_index_pos
                    .is_none_or(|p| pos >= p + INDEX_INTERVAL)
                {
                    index.push((offset, pos));
                    self.last_index_pos = Some(pos);
                }
                frame::encode(offset, &record, buf);
                want_sync |= durability == Durability::Synced;
                acks.push(Ack {
                    partition: self.shared.id,
                    offset,
                });
            }
            if !acks.is_empty() {
                if let Err(e) = self.write(buf, want_sync) {
                    fail(&mut results, acks.len() + pending.len(), &e);
                    return results;
                }
                self.next_offset += acks.len() as u64;
                self.active_len += buf.len() as u64;
                self.shared
                    .publish(self.active_base, self.active_len, &index, self.next_offset);
                results.extend(acks.into_iter().map(Ok));
            }
            if pending.peek().is_some() {
                // The next record did not fit: close this segment and start another.
                if let Err(e) = self.roll() {
                    fail(&mut results, pending.len(), &e);
                    return results;
                }
            }
        }
        results
    }

    /// Writes one chunk at the end of the active segment.
    fn write(&mut self, buf: &[u8], sync: bool) -> Result<(), LogError> {
        if let Err(e) = self.active.write_all_at(buf, self.active_len) {
            let path = segment::segment_path(&self.shared.dir, self.active_base);
            // Cut off whatever part of the chunk landed so the next write starts
            // cleanly; if even that fails the file is in an unknown state.
            if let Err(t) = self.active.set_len(self.active_len) {
                self.broken = Some(format!("could not truncate after failed write: {t}"));
            }
            return Err(io_err("write segment", &path)(e));
        }
        self.dirty = true;
        if sync { self.sync() } else { Ok(()) }
    }

    fn sync(&mut self) -> Result<(), LogError> {
        if !self.dirty {
            return Ok(());
        }
        let path = segment::segment_path(&self.shared.dir, self.active_base);
        match self.active.sync_data() {
            Ok(()) => {
                self.dirty = false;
                Ok(())
            }
            Err(e) => {
                // After a failed fsync the kernel may have dropped the dirty pages; we
                // can no longer tell what is on disk.
                self.broken = Some(format!("fsync failed: {e}"));
                Err(io_err("fsync segment", &path)(e))
            }
        }
    }

    /// Closes the active segment (synced, whatever the policy, so only the last
    /// segment can ever be torn) and starts a new one at the next offset.
    fn roll(&mut self) -> Result<(), LogError> {
        self.sync()?;
        let seg: Segment = segment::create_segment(&self.shared.dir, self.next_offset)?;
        self.active = Arc::clone(&seg.file);
        self.active_base = seg.base;
        self.active_len = 0;
        self.last_index_pos = None;
        self.shared.push_segment(seg);
        Ok(())
    }
}

/// Fails the next `n` appends with a copy of `e`.
fn fail(results: &mut Vec<Result<Ack, LogError>>, n: usize, e: &LogError) {
    results.extend((0..n).map(|_| Err(fan_out(e))));
}

/// A copy of an error for each of several waiters (`LogError` is not `Clone`
/// because `io::Error` is not).
fn fan_out(e: &LogError) -> LogError {
    match e {
        LogError::Io {
            operation,
            path,
            source,
        } => LogError::Io {
            operation,
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        other => LogError::Backend(other.to_string()),
    }
}

enum Work {
    Batch(Vec<Request>),
    Sync,
}

/// The writer task. Ends when the partition handle (the only sender) is dropped,
/// after a last fsync; holds the directory lock until then.
pub(crate) async fn run(mut writer: Writer, mut rx: mpsc::Receiver<Request>, lock: Arc<DirLock>) {
    let mut ticker = match writer.policy {
        FsyncPolicy::Interval(period) if !period.is_zero() => {
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
            Some(ticker)
        }
        _ => None,
    };
    let mut closed = false;
    while !closed {
        let mut batch = Vec::new();
        let work = tokio::select! {
            n = rx.recv_many(&mut batch, MAX_BATCH) => {
                closed = n == 0;
                Work::Batch(batch)
            }
            () = tick(&mut ticker) => Work::Sync,
        };
        if matches!(work, Work::Sync) && !writer.dirty {
            continue;
        }
        if closed && writer.policy == FsyncPolicy::Never {
            break;
        }
        let work = if closed { Work::Sync } else { work };
        let job = tokio::task::spawn_blocking(move || {
            writer.handle(work);
            writer
        });
        writer = match job.await {
            Ok(writer) => writer,
            // Cancelled only when the runtime itself is shutting down; whatever
            // was acknowledged is already written, and `flush` synced it.
            Err(e) if e.is_cancelled() => {
                tracing::debug!("partition writer stopped by runtime shutdown");
                break;
            }
            Err(e) => {
                tracing::error!(error = %e, "partition writer task failed");
                break;
            }
        };
    }
    drop(lock);
}

async fn tick(ticker: &mut Option<Interval>) {
    match ticker {
        Some(ticker) => {
            ticker.tick().await;
        }
        None => std::future::pending().await,
    }
}
