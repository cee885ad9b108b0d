//! The control plane's view of an in-process proxy.

use async_trait::async_trait;
use ghost_control::{MockInfo, ModeInfo, ProxyInfo, RunEntry, RunReport, ServiceInfo, StateView};
use ghost_model::ServiceName;
use ghost_proxy::ProxyState;
use ghost_proxy::modes::ModeState;
use std::sync::Arc;
use std::time::Duration;

const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(10);

pub struct ProxyView {
    state: Arc<ProxyState>,
}

impl ProxyView {
    pub fn new(state: Arc<ProxyState>) -> Self {
        Self { state }
    }
}

fn info(service: Option<&ServiceName>, s: &ModeState, inherited: bool) -> ModeInfo {
    ModeInfo {
        service: service.map(|s| s.to_string()),
        mode: s.mode,
        target: s.target,
        inherited,
    }
}

/// A journal entry as the control plane reports it.
pub(crate) fn run_entry(s: ghost_proxy::journal::Served) -> RunEntry {
    RunEntry {
        service: s.service,
        method: s.method,
        target: s.target,
        status: s.status,
        answer: s.answer.to_owned(),
        duration_ms: s.duration.as_secs_f64() * 1000.0,
    }
}

#[async_trait]
impl StateView for ProxyView {
    fn services(&self) -> Vec<ServiceInfo> {
        let modes = self.state.modes();
        self.state
            .services()
            .iter()
            .map(|r| ServiceInfo {
                name: r.name.to_string(),
                upstream: r.upstream.clone(),
                mode: modes.effective(&r.name).mode.to_string(),
                insecure_skip_verify: r.insecure_skip_verify,
                warning: r.insecure_skip_verify.then(|| {
                    "insecure_skip_verify: any certificate from this upstream is accepted, so its traffic can be read and changed on the way".to_owned()
                }),
            })
            .collect()
    }

    fn has_service(&self, name: &ServiceName) -> bool {
        self.state.services().iter().any(|r| &r.name == name)
    }

    fn mode(&self, service: Option<&ServiceName>) -> ModeInfo {
        let modes = self.state.modes();
        match service {
            None => info(None, &modes.global, false),
            Some(s) => match modes.scope(Some(s)) {
                Some(own) => info(Some(s), own, false),
                None => info(Some(s), &modes.global, true),
            },
        }
    }

    async fn mocks(
        &self,
        service: Option<&ServiceName>,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<MockInfo>, bool) {
        // In LEARN the library is materialized on demand; a log that does not
        // answer in time must not hang the listing, so it lists what is applied.
        let caught_up = tokio::time::timeout(CATCH_UP_TIMEOUT, self.state.catch_up()).await;
        let up_to_date = caught_up.is_ok();
        if !up_to_date {
            tracing::warn!("library catch-up timed out; listing what is applied");
        }
        let lib = self.state.library();
        let matching = lib
            .recordings()
            .filter(|r| service.is_none_or(|s| *r.service == *s.as_str()));
        let total = matching.clone().count();
        let items = matching
            .skip(offset)
            .take(limit)
            .map(|r| MockInfo {
                id: r.capture_id.to_string(),
                service: r.service.to_string(),
                method: r.method.to_string(),
                uri: r.uri.to_string(),
                status: r.response.status.as_u16(),
                recorded_at_us: r.recorded_at_us,
                session_id: r.session_id.to_string(),
                body_bytes: r.response.body.len(),
            })
            .collect();
        (total, items, up_to_date)
    }

    fn ready(&self) -> bool {
        self.state.is_ready()
    }

    fn proxy(&self) -> ProxyInfo {
        ProxyInfo {
            proxy_url: self.state.local_addr().map(|a| format!("http://{a}")),
            ca_cert: self.state.ca_cert_pem().map(str::to_owned),
        }
    }

    fn open_run(&self) -> Option<u64> {
        Some(self.state.journal().open())
    }

    fn run(&self, id: u64, close: bool) -> Option<RunReport> {
        let journal = self.state.journal();
        let got = if close {
            journal.close(id)
        } else {
            journal.peek(id)
        }?;
        Some(RunReport {
            id,
            served: got.served.into_iter().map(run_entry).collect(),
            dropped: got.dropped,
        })
    }

    async fn wait_mode_applied(
        &self,
        offset: u64,
        service: Option<&ServiceName>,
        timeout: Duration,
    ) -> ModeInfo {
        let _ = self.state.wait_mode_applied(offset, service, timeout).await;
        let mut now = self.mode(service);
        // A service without an override reports the global state it follows.
        if now.inherited {
            now.service = service.map(|s| s.to_string());
        }
        now
    }
}
