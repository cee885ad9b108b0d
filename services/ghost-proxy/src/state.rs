//! Shared proxy state: the library and mode snapshots the request path reads, and
//! the mode-change protocol (LEARN → TRANSITIONING → MOCK at the barrier).

use crate::config::ProxyConfig;
use crate::library::{Library, LibraryBuilder};
use crate::metrics::Metrics;
use crate::modes::{ModeState, ModeTable};
use crate::origins::Origins;
use crate::publisher::Publisher;
use crate::routing::{Routes, ServiceRoute};
use crate::wire::{barrier, mode_from_record};
use arc_swap::ArcSwap;
use ghost_log::SharedLog;
use ghost_model::{Mode, ServiceName};
use ghost_schema::ModeChangeRecord;
use ghost_topics as topics;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// The library under construction and how far into the captures topic it got.
#[derive(Debug, Default)]
pub(crate) struct Materialized {
    pub builder: LibraryBuilder,
    /// Next offset to apply, per captures partition.
    pub next: Vec<u64>,
}

/// Everything the request path and the control plane read.
pub struct ProxyState {
    pub(crate) config: ProxyConfig,
    pub(crate) routes: Routes,
    /// Services of origins forward-proxy clients asked for.
    pub(crate) origins: Origins,
    /// The interception CA, while TLS interception is on.
    pub(crate) ca: Option<Arc<crate::intercept::CertAuthority>>,
    /// The TLS server configuration intercepted clients that send SNI share.
    pub(crate) tls_shared: Option<Arc<rustls::ServerConfig>>,
    /// The ports ghost itself listens on (set once bound), so a request that
    /// would be forwarded back to ghost is refused instead of looping.
    pub(crate) own_ports: std::sync::OnceLock<Vec<u16>>,
    /// The proxy listener's address, once bound.
    pub(crate) local_addr: std::sync::OnceLock<std::net::SocketAddr>,
    /// Windows over answered requests (`ghost record`/`replay`).
    pub(crate) journal: crate::journal::Journal,
    pub(crate) library: ArcSwap<Library>,
    pub(crate) modes: ArcSwap<ModeTable>,
    pub(crate) publisher: Publisher,
    pub(crate) metrics: Metrics,
    pub(crate) log: SharedLog,
    pub(crate) materialized: Mutex<Materialized>,
    /// Per captures partition: next offset included in the served library.
    pub(crate) applied: watch::Sender<Vec<u64>>,
    /// Next offset of the modes topic that has been applied.
    pub(crate) modes_applied: watch::Sender<u64>,
    pub(crate) ready: watch::Sender<bool>,
    /// Whether the captures tails apply new records now: true while some scope
    /// serves from the library or a caller waits in [`ProxyState::catch_up`].
    /// In pure LEARN/PASSTHROUGH nothing reads the library, so decoding every
    /// capture back as it is recorded would be wasted work on the request cores.
    pub(crate) wanted: watch::Sender<bool>,
    pub(crate) catch_ups: AtomicUsize,
}

impl std::fmt::Debug for ProxyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyState").finish_non_exhaustive()
    }
}

impl ProxyState {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Materialized> {
        self.materialized.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The library as served right now.
    pub fn library(&self) -> Arc<Library> {
        self.library.load_full()
    }

    /// The mode table as applied right now.
    pub fn modes(&self) -> Arc<ModeTable> {
        self.modes.load_full()
    }

    /// The routes (services) this proxy knows.
    /// Every service: the configured ones, then those created for origins.
    pub fn services(&self) -> Vec<Arc<ServiceRoute>> {
        let mut all = self.routes.all().to_vec();
        let mut origins = self.origins.all();
        origins.sort_by(|a, b| a.name.cmp(&b.name));
        all.extend(origins);
        all
    }

    /// The interception CA's certificate (PEM), while interception is on.
    pub fn ca_cert_pem(&self) -> Option<&str> {
        self.ca
            .as_deref()
            .map(crate::intercept::CertAuthority::cert_pem)
    }

    /// Where the proxy listens, once it is bound.
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.local_addr.get().copied()
    }

    /// Windows over answered requests.
    pub fn journal(&self) -> &crate::journal::Journal {
        &self.journal
    }

    /// The file holding the interception CA's certificate, while interception is on.
    pub fn ca_cert_path(&self) -> Option<std::path::PathBuf> {
        self.ca
            .as_ref()
            .map(|_| self.config.intercept.ca.cert_path())
    }

    /// Whether `authority` is ghost itself (a loopback or unspecified host on
    /// one of its ports): forwarding there would loop.
    pub(crate) fn is_self(&self, authority: &http::uri::Authority) -> bool {
        let Some(port) = authority.port_u16() else {
            return false;
        };
        if !self.own_ports.get().is_some_and(|p| p.contains(&port)) {
            return false;
        }
        let host = crate::routing::bare_host(authority.host());
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
    }

    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// Publishes a new library snapshot if anything changed, and advances the
    /// applied offsets to what it contains.
    pub(crate) fn publish_snapshot(&self) {
        let (lib, next) = {
            let mut m = self.lock();
            let lib = m.builder.is_dirty().then(|| m.builder.snapshot());
            (lib, m.next.clone())
        };
        if let Some(lib) = lib {
            self.metrics.library_size.set(lib.len() as f64);
            self.library.store(Arc::new(lib));
        }
        self.applied.send_if_modified(|cur| {
            let changed = *cur != next;
            *cur = next;
            changed
        });
    }

    /// Re-evaluates whether the tails should be applying captures.
    pub(crate) fn refresh_wanted(&self) {
        let want = self.catch_ups.load(Ordering::Acquire) > 0 || self.modes.load().serves_library();
        self.wanted
            .send_if_modified(|cur| std::mem::replace(cur, want) != want);
    }

    /// Brings the library up to everything recorded until now (this proxy's queued
    /// captures included) and returns it. In LEARN the library is materialized on
    /// demand, so listings call this first.
    pub async fn catch_up(&self) -> Arc<Library> {
        struct Demand<'a>(&'a ProxyState);
        impl Drop for Demand<'_> {
            fn drop(&mut self) {
                self.0.catch_ups.fetch_sub(1, Ordering::AcqRel);
                self.0.refresh_wanted();
            }
        }
        self.catch_ups.fetch_add(1, Ordering::AcqRel);
        let _demand = Demand(self);
        self.refresh_wanted();
        self.publisher.flush().await;
        let target = self.end_offsets(Vec::new()).await;
        self.wait_applied(&target).await;
        self.library()
    }

    /// `extra` plus the current end offset of every captures partition.
    async fn end_offsets(&self, mut extra: Vec<(u32, u64)>) -> Vec<(u32, u64)> {
        let partitions = self.lock().next.len() as u32;
        for p in 0..partitions {
            match self.log.end_offset(topics::CAPTURES.name(), p).await {
                Ok(end) => extra.push((p, end)),
                Err(error) => {
                    tracing::warn!(%error, partition = p, "captures end offset unavailable")
                }
            }
        }
        extra
    }

    /// Waits until the served library includes every offset before `target`.
    async fn wait_applied(&self, target: &[(u32, u64)]) {
        let mut applied = self.applied.subscribe();
        loop {
            self.publish_snapshot();
            let reached = {
                let cur = applied.borrow_and_update();
                target
                    .iter()
                    .all(|(p, off)| cur.get(*p as usize).is_some_and(|a| a >= off))
            };
            if reached {
                return;
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), applied.changed()).await;
        }
    }

    /// Waits until the modes topic has been applied past `offset` and the scope
    /// is no longer TRANSITIONING (or `timeout` passes). Returns the scope's state.
    pub async fn wait_mode_applied(
        &self,
        offset: u64,
        service: Option<&ServiceName>,
        timeout: Duration,
    ) -> Option<ModeState> {
        let mut rx = self.modes_applied.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if *rx.borrow_and_update() > offset {
                let table = self.modes.load();
                let state = table.scope(service).cloned();
                if state
                    .as_ref()
                    .is_some_and(|s| s.mode != Mode::Transitioning)
                {
                    return state;
                }
            }
            // Re-check on every mode change and at least every 20 ms (the transition
            // completes without a new modes-topic record).
            let _ = tokio::time::timeout_at(
                deadline.min(tokio::time::Instant::now() + Duration::from_millis(20)),
                rx.changed(),
            )
            .await;
            if tokio::time::Instant::now() >= deadline {
                return self.modes.load().scope(service).cloned();
            }
        }
    }

    /// Applies one record of the modes topic. At start-up (`replaying`) the library
    /// is already complete, so MOCK applies at once; afterwards LEARN → MOCK passes
    /// through TRANSITIONING until the library holds everything recorded before it.
    pub(crate) fn apply_mode(
        self: &Arc<Self>,
        offset: u64,
        record: ModeChangeRecord,
        replaying: bool,
    ) {
        let scope = match record.service.as_deref().map(ServiceName::new).transpose() {
            Ok(s) => s,
            Err(error) => {
                tracing::warn!(%error, offset, "mode record for an invalid service ignored");
                return;
            }
        };
        let mode = mode_from_record(record.mode);
        let table = self.modes.load();
        let current = table
            .scope(scope.as_ref())
            .cloned()
            .unwrap_or_else(|| table.global.clone());
        // A new LEARN window starts whenever LEARN is entered from another mode; its
        // id is the mode record's, so a replay of the log derives the same sessions.
        let session = if mode == Mode::Learn && current.target != Mode::Learn {
            Arc::from(record.id.as_str())
        } else {
            current.session.clone()
        };
        let transition = mode == Mode::Mock && !replaying;
        let state = ModeState {
            mode: if transition {
                Mode::Transitioning
            } else {
                mode
            },
            target: mode,
            session,
            offset: Some(offset),
        };
        self.modes
            .store(Arc::new(table.with_scope(scope.as_ref(), state)));
        self.refresh_wanted();
        if transition {
            let this = self.clone();
            let barrier = barrier(&record);
            tokio::spawn(async move { this.finish_transition(scope, offset, barrier).await });
        }
    }

    async fn finish_transition(
        self: Arc<Self>,
        scope: Option<ServiceName>,
        offset: u64,
        barrier: Vec<(u32, u64)>,
    ) {
        // Everything this proxy recorded before the switch must be in the log...
        self.publisher.flush().await;
        let target = self.end_offsets(barrier).await;
        // ...and in the library, before MOCK serves anything.
        self.wait_applied(&target).await;
        let table = self.modes.load();
        let Some(cur) = table.scope(scope.as_ref()) else {
            return;
        };
        if cur.offset != Some(offset) {
            return; // a newer mode change superseded this one
        }
        self.library.load().reset_cursors();
        let done = ModeState {
            mode: Mode::Mock,
            ..cur.clone()
        };
        self.modes
            .store(Arc::new(table.with_scope(scope.as_ref(), done)));
        tracing::info!(
            service = scope.as_ref().map(ServiceName::as_str),
            "MOCK active"
        );
        self.modes_applied.send_modify(|_| {});
    }
}
