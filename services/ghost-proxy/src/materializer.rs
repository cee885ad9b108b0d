//! Keeps the in-RAM library and mode table in step with the log, through the
//! worker platform's followers.
//!
//! At start-up everything up to the current end of the captures and modes topics
//! is applied before the proxy serves (so a restart never serves a half library).
//! Then one task per captures partition tails new records into the builder, a
//! snapshot task publishes coalesced snapshots, and a modes task applies mode
//! changes in order. The captures tails run only while the library is wanted
//! (some scope in MOCK/TRANSITIONING, or a caller in `ProxyState::catch_up`):
//! in LEARN they would decode every capture right after the proxy encoded it.

use crate::error::ProxyError;
use crate::metrics::IoOp;
use crate::state::ProxyState;
use crate::wire::record_to_capture;
use ghost_schema::{CaptureRecord, ModeChangeRecord};
use ghost_topics as topics;
use ghost_worker::{Batch, Follower};
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

/// Applies a batch of captures to the builder and advances the partition's
/// applied offset, under one lock (what is applied and where it ends agree).
fn apply_captures(state: &ProxyState, batch: Batch<CaptureRecord>) {
    let decoded: Vec<_> = batch
        .entries
        .into_iter()
        .map(|e| record_to_capture(e.value, &state.config.redactor))
        .collect();
    let mut m = state.lock();
    for c in &decoded {
        if let Err(reason) = m.builder.apply(c) {
            tracing::debug!(?reason, capture = c.id(), "capture not servable");
        }
    }
    if let Some(next) = m.next.get_mut(batch.partition as usize) {
        *next = (*next).max(batch.next);
    }
}

fn apply_modes(state: &Arc<ProxyState>, batch: Batch<ModeChangeRecord>, replaying: bool) {
    for e in batch.entries {
        state.apply_mode(e.offset, e.value, replaying);
    }
}

fn count_skipped(state: &ProxyState, skipped: usize) {
    if skipped > 0 {
        state.metrics.io_errors(IoOp::Decode, skipped as u64);
    }
}

/// The followers that keep the proxy's state in step, positioned where
/// [`load`] left them.
pub(crate) struct Followers {
    captures: Vec<Follower<CaptureRecord>>,
    modes: Follower<ModeChangeRecord>,
}

/// Loads every capture and mode record present now. Returns when the library and
/// mode table reflect the whole log.
pub(crate) async fn load(state: &Arc<ProxyState>) -> Result<Followers, ProxyError> {
    let partitions = state.lock().next.len() as u32;
    let mut captures = Vec::with_capacity(partitions as usize);
    for p in 0..partitions {
        let mut f = Follower::new(state.log.clone(), topics::CAPTURES, p, 0);
        let skipped = f
            .catch_up(&mut |b| apply_captures(state, b))
            .await
            .map_err(log_err("loading captures"))?;
        count_skipped(state, skipped);
        if let Some(n) = state.lock().next.get_mut(p as usize) {
            *n = (*n).max(f.next());
        }
        captures.push(f);
    }
    state.publish_snapshot();

    let mut modes = Follower::new(state.log.clone(), topics::MODES, 0, 0);
    let skipped = modes
        .catch_up(&mut |b| apply_modes(state, b, true))
        .await
        .map_err(log_err("loading modes"))?;
    count_skipped(state, skipped);
    state.modes_applied.send_replace(modes.next());
    Ok(Followers { captures, modes })
}

/// Starts the tailing tasks; they stop when `shutdown` turns true.
pub(crate) fn spawn_tails(
    state: &Arc<ProxyState>,
    followers: Followers,
    shutdown: watch::Receiver<bool>,
) {
    let (dirty_tx, dirty_rx) = watch::channel(());
    for mut follower in followers.captures {
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
                let step = {
                    let state = &state;
                    let mut apply = |b| apply_captures(state, b);
                    let read = follower.step(READ_BATCH, Some(TAIL_WAIT), &mut apply);
                    tokio::select! {
                        r = read => r,
                        _ = shutdown.changed() => break,
                    }
                };
                match step {
                    Ok(step) if step.read > 0 => {
                        count_skipped(&state, step.skipped);
                        dirty.send_replace(());
                        if step.read < READ_BATCH {
                            tokio::time::sleep(TAIL_LINGER).await;
                        }
                    }
                    Ok(_) => {}
                    Err(error) => {
                        state.metrics.io_error(IoOp::LogRead);
                        tracing::warn!(%error, partition = follower.partition(), "captures tail read failed; retrying");
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
    let mut modes = followers.modes;
    tokio::spawn(async move {
        while !*shutdown.borrow() {
            let step = {
                let state = &state;
                let mut apply = |b| apply_modes(state, b, false);
                let read = modes.step(READ_BATCH, Some(TAIL_WAIT), &mut apply);
                tokio::select! {
                    r = read => r,
                    _ = shutdown.changed() => break,
                }
            };
            match step {
                Ok(step) => {
                    count_skipped(&state, step.skipped);
                    if step.read > 0 {
                        state.modes_applied.send_replace(modes.next());
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
