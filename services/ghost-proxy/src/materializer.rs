//! Keeps the in-RAM library and mode table in step with the log.
//!
//! At start-up everything up to the current end of the captures and modes topics
//! is applied before the proxy serves (so a restart never serves a half library).
//! Then one task per captures partition tails new records into the builder, a
//! snapshot task publishes coalesced snapshots, and a modes task applies mode
//! changes in order. The captures tails run only while the library is wanted
//! (some scope in MOCK/TRANSITIONING, or a caller in `ProxyState::catch_up`):
//! in LEARN they would decode every capture right after the proxy encoded it.

use crate::codec::record_to_capture;
use crate::error::ProxyError;
use crate::metrics::IoOp;
use crate::state::ProxyState;
use ghost_log::StoredRecord;
use ghost_schema::{CaptureRecord, ModeChangeRecord};
use ghost_topics as topics;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const READ_BATCH: usize = 1024;
/// How long a tail read waits for new records before checking for shutdown.
const TAIL_WAIT: Duration = Duration::from_millis(500);
/// After a non-full batch, the captures tail waits this long before reading again,
/// so a stream of captures is applied in batches rather than one wake-up each.
const TAIL_LINGER: Duration = Duration::from_millis(20);
/// Snapshots are rebuilt at most this often while captures stream in (a mode
/// barrier asks for one immediately instead).
const SNAPSHOT_INTERVAL: Duration = Duration::from_millis(100);

fn log_err(context: &'static str) -> impl FnOnce(ghost_log::LogError) -> ProxyError {
    move |source| ProxyError::Log { context, source }
}

/// Applies a batch of capture records to the builder.
fn apply_captures(state: &ProxyState, partition: u32, records: &[StoredRecord]) {
    let mut decoded = Vec::with_capacity(records.len());
    for r in records {
        let Some(value) = &r.value else { continue };
        match ghost_schema::decode::<CaptureRecord>(value) {
            Ok(rec) => decoded.push(record_to_capture(rec, &state.config.redactor)),
            Err(error) => {
                state.metrics.io_error(IoOp::Decode);
                tracing::warn!(%error, partition, offset = r.offset, "capture record skipped");
            }
        }
    }
    let mut m = state.lock();
    for c in &decoded {
        if let Err(reason) = m.builder.apply(c) {
            tracing::debug!(?reason, capture = c.id(), "capture not servable");
        }
    }
    if let (Some(last), Some(next)) = (records.last(), m.next.get_mut(partition as usize)) {
        *next = last.offset + 1;
    }
}

/// Loads every capture and mode record present now. Returns when the library and
/// mode table reflect the whole log.
pub(crate) async fn load(state: &Arc<ProxyState>) -> Result<(), ProxyError> {
    let partitions = state.lock().next.len() as u32;
    for p in 0..partitions {
        let end = state
            .log
            .end_offset(topics::CAPTURES.name(), p)
            .await
            .map_err(log_err("reading the captures end offset"))?;
        let mut next = 0;
        while next < end {
            let batch = state
                .log
                .read(topics::CAPTURES.name(), p, next, READ_BATCH, None)
                .await
                .map_err(log_err("loading captures"))?;
            let Some(last) = batch.last() else { break };
            next = last.offset + 1;
            apply_captures(state, p, &batch);
        }
        if let Some(n) = state.lock().next.get_mut(p as usize) {
            *n = (*n).max(end);
        }
    }
    state.publish_snapshot();

    let end = state
        .log
        .end_offset(topics::MODES.name(), 0)
        .await
        .map_err(log_err("reading the modes end offset"))?;
    let mut next = 0;
    while next < end {
        let batch = state
            .log
            .read(topics::MODES.name(), 0, next, READ_BATCH, None)
            .await
            .map_err(log_err("loading modes"))?;
        let Some(last) = batch.last() else { break };
        next = last.offset + 1;
        apply_modes(state, &batch, true);
    }
    state.modes_applied.send_replace(next.max(end));
    Ok(())
}

fn apply_modes(state: &Arc<ProxyState>, records: &[StoredRecord], replaying: bool) {
    for r in records {
        let Some(value) = &r.value else { continue };
        match ghost_schema::decode::<ModeChangeRecord>(value) {
            Ok(rec) => state.apply_mode(r.offset, rec, replaying),
            Err(error) => {
                state.metrics.io_error(IoOp::Decode);
                tracing::warn!(%error, offset = r.offset, "mode record skipped");
            }
        }
    }
}

/// Starts the tailing tasks; they stop when `shutdown` turns true.
pub(crate) fn spawn_tails(state: &Arc<ProxyState>, shutdown: watch::Receiver<bool>) {
    let partitions = state.lock().next.len() as u32;
    let (dirty_tx, dirty_rx) = watch::channel(());
    for p in 0..partitions {
        let state = state.clone();
        let mut shutdown = shutdown.clone();
        let dirty = dirty_tx.clone();
        let mut wanted = state.wanted.subscribe();
        tokio::spawn(async move {
            while !*shutdown.borrow() {
                if !*wanted.borrow_and_update() {
                    tokio::select! {
                        r = wanted.changed() => if r.is_err() { break },
                        _ = shutdown.changed() => break,
                    }
                    continue;
                }
                let next = state.lock().next.get(p as usize).copied().unwrap_or(0);
                let read = state.log.read(
                    topics::CAPTURES.name(),
                    p,
                    next,
                    READ_BATCH,
                    Some(TAIL_WAIT),
                );
                let batch = tokio::select! {
                    r = read => r,
                    _ = shutdown.changed() => break,
                };
                match batch {
                    Ok(batch) if !batch.is_empty() => {
                        apply_captures(&state, p, &batch);
                        dirty.send_replace(());
                        if batch.len() < READ_BATCH {
                            tokio::time::sleep(TAIL_LINGER).await;
                        }
                    }
                    Ok(_) => {}
                    Err(error) => {
                        state.metrics.io_error(IoOp::LogRead);
                        tracing::warn!(%error, partition = p, "captures tail read failed; retrying");
                        tokio::time::sleep(TAIL_WAIT).await;
                    }
                }
            }
        });
    }
    {
        let state = state.clone();
        let mut shutdown = shutdown.clone();
        let mut dirty = dirty_rx;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    r = dirty.changed() => if r.is_err() { break },
                    _ = shutdown.changed() => break,
                }
                state.publish_snapshot();
                tokio::time::sleep(SNAPSHOT_INTERVAL).await;
            }
        });
    }
    let state = state.clone();
    let mut shutdown = shutdown;
    tokio::spawn(async move {
        while !*shutdown.borrow() {
            let next = *state.modes_applied.borrow();
            let read = state
                .log
                .read(topics::MODES.name(), 0, next, READ_BATCH, Some(TAIL_WAIT));
            let batch = tokio::select! {
                r = read => r,
                _ = shutdown.changed() => break,
            };
            match batch {
                Ok(batch) => {
                    if let Some(last) = batch.last() {
                        apply_modes(&state, &batch, false);
                        state.modes_applied.send_replace(last.offset + 1);
                    }
                }
                Err(error) => {
                    state.metrics.io_error(IoOp::LogRead);
                    tracing::warn!(%error, "modes tail read failed; retrying");
                    tokio::time::sleep(TAIL_WAIT).await;
                }
            }
        }
    });
}
