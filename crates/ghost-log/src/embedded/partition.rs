//! One partition: the state readers see, and the handle through which the log
//! appends, reads, waits and flushes.

use super::fsutil::DirLock;
use super::segment::{FrameReader, Scan, Segment};
use super::writer::{self, Append, AppendMany, Request, Writer};
use crate::{Ack, Durability, LogError, Record, StoredRecord};
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// Appends queued for one partition's writer before `append` callers wait: bounds the
/// memory a burst can pin while keeping enough in flight for large group commits.
const QUEUE_DEPTH: usize = 1024;
/// A read stops once it has gathered this many bytes (but returns at least one
/// record), so `max = usize::MAX` cannot pull a whole partition into memory.
const READ_BYTES_CAP: u64 = 8 * 1024 * 1024;
/// Stand-in deadline for a wait too long to represent.
const FOREVER: Duration = Duration::from_secs(365 * 24 * 3600);

/// What readers see: the segments in offset order and the acknowledged end offset.
#[derive(Debug)]
pub(crate) struct View {
    pub segments: Vec<Segment>,
    pub end: u64,
}

/// State shared by the partition handle, its writer task and compaction.
#[derive(Debug)]
pub(crate) struct Shared {
    pub topic: String,
    pub id: u32,
    pub dir: PathBuf,
    pub max_body: usize,
    view: RwLock<View>,
    /// Carries the end offset; waiting readers are woken by every publish.
    end_tx: watch::Sender<u64>,
}

impl Shared {
    pub(crate) fn new(topic: String, id: u32, dir: PathBuf, max_body: usize, view: View) -> Self {
        let (end_tx, _) = watch::channel(view.end);
        let view = RwLock::new(view);
        Self {
            topic,
            id,
            dir,
            max_body,
            view,
            end_tx,
        }
    }

    // A panic while holding the lock cannot leave the view half-updated (every
    // update is a few plain assignments), so a poisoned lock is still usable.
    pub(crate) fn view(&self) -> RwLockReadGuard<'_, View> {
        self.view.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn view_mut(&self) -> RwLockWriteGuard<'_, View> {
        self.view.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes newly written frames of the active segment visible and wakes readers.
    pub(crate) fn publish(&self, base: u64, len: u64, index: &[(u64, u64)], end: u64) {
        {
            let mut view = self.view_mut();
            if let Some(seg) = view.segments.last_mut().filter(|s| s.base == base) {
                seg.len = len;
                seg.index.extend_from_slice(index);
            }
            view.end = end;
        }
        self.end_tx.send_replace(end);
    }

    pub(crate) fn push_segment(&self, segment: Segment) {
        self.view_mut().segments.push(segment);
    }

    pub(crate) fn end(&self) -> u64 {
        *self.end_tx.borrow()
    }
}

/// The log's handle on one partition.
#[derive(Debug)]
pub(crate) struct Partition {
    pub(crate) shared: Arc<Shared>,
    tx: mpsc::Sender<Request>,
    /// Serializes compaction runs of this partition.
    pub(crate) compaction: tokio::sync::Mutex<()>,
}

impl Partition {
    /// Starts the partition's writer task; must run inside a tokio runtime.
    pub(crate) fn start(shared: Arc<Shared>, writer: Writer, lock: Arc<DirLock>) -> Partition {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(writer::run(writer, rx, lock));
        Partition {
            shared,
            tx,
            compaction: tokio::sync::Mutex::new(()),
        }
    }

    pub(crate) async fn append(
        &self,
        record: Record,
        durability: Durability,
    ) -> Result<Ack, LogError> {
        let rx = self.enqueue(record, durability).await?;
        rx.await.map_err(|_| LogError::Closed)?
    }

    /// Hands a record to the writer and returns the receiver of its ack, so a
    /// caller can queue many records before waiting (they share a group commit).
    pub(crate) async fn enqueue(
        &self,
        record: Record,
        durability: Durability,
    ) -> Result<oneshot::Receiver<Result<Ack, LogError>>, LogError> {
        let (reply, rx) = oneshot::channel();
        let request = Request::Append(Append {
            record,
            durability,
            reply,
        });
        self.tx.send(request).await.map_err(|_| LogError::Closed)?;
        Ok(rx)
    }

    /// Hands several records to the writer as one request; the receiver gets
    /// one result per record, in order.
    pub(crate) async fn enqueue_many(
        &self,
        records: Vec<Record>,
        durability: Durability,
    ) -> Result<oneshot::Receiver<Vec<Result<Ack, LogError>>>, LogError> {
        let (reply, rx) = oneshot::channel();
        let request = Request::AppendMany(AppendMany {
            records,
            durability,
            reply,
        });
        self.tx.send(request).await.map_err(|_| LogError::Closed)?;
        Ok(rx)
    }

    /// Fsyncs everything this partition has written.
    pub(crate) async fn sync(&self) -> Result<(), LogError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request::Sync { reply })
            .await
            .map_err(|_| LogError::Closed)?;
        rx.await.map_err(|_| LogError::Closed)?
    }

    pub(crate) async fn read(
        &self,
        from: u64,
        max: usize,
        wait: Option<Duration>,
    ) -> Result<Vec<StoredRecord>, LogError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let now = Instant::now();
        let deadline = wait.map(|w| now.checked_add(w).unwrap_or(now + FOREVER));
        let mut ends = self.shared.end_tx.subscribe();
        loop {
            let end = *ends.borrow_and_update();
            if from < end {
                let shared = Arc::clone(&self.shared);
                let records =
                    tokio::task::spawn_blocking(move || read_blocking(&shared, from, max))
                        .await
                        .map_err(|e| LogError::Backend(format!("read task failed: {e}")))??;
                if !records.is_empty() {
                    return Ok(records);
                }
            }
            let Some(deadline) = deadline else {
                return Ok(Vec::new());
            };
            // `changed` also fires for appends made between the borrow above and now,
            // so no wake-up is lost.
            match tokio::time::timeout_at(deadline, ends.changed()).await {
                Ok(Ok(())) => continue,
                _ => return Ok(Vec::new()),
            }
        }
    }
}

/// Reads up to `max` acknowledged records with offset `>= from`, one segment at a
/// time so the view lock is never held during I/O.
pub(crate) fn read_blocking(
    shared: &Shared,
    from: u64,
    max: usize,
) -> Result<Vec<StoredRecord>, LogError> {
    let mut out = Vec::new();
    let mut bytes = 0;
    let mut cursor = from;
    loop {
        let (seg, next_base, end) = {
            let view = shared.view();
            let i = view
                .segments
                .partition_point(|s| s.base <= cursor)
                .saturating_sub(1);
            let Some(seg) = view.segments.get(i) else {
                return Ok(out);
            };
            (
                seg.span_from(cursor),
                view.segments.get(i + 1).map(|s| s.base),
                view.end,
            )
        };
        let start = seg.pos;
        let mut reader = FrameReader::new(
            &seg.file,
            &seg.path,
            shared.id,
            shared.max_body,
            start,
            seg.len,
        );
        loop {
            match reader.next()? {
                Scan::End => break,
                Scan::Record { record, len, .. } => {
                    if record.offset >= end {
                        return Ok(out);
                    }
                    if record.offset >= cursor {
                        bytes += len;
                        out.push(record);
                        if out.len() >= max || bytes >= READ_BYTES_CAP {
                            return Ok(out);
                        }
                    }
                }
                Scan::Bad { pos, reason } => {
                    return Err(super::segment::corrupt(
                        &seg.path,
                        format!("at byte {pos}: {reason}"),
                    ));
                }
            }
        }
        match next_base {
            Some(next) => cursor = cursor.max(next),
            None => return Ok(out),
        }
    }
}
