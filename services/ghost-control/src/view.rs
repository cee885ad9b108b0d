//! What the control plane reads: a view of the proxy's state.
//!
//! In `ghost up` the proxy's in-memory state implements it; a separately deployed
//! control plane implements it over its own projection.

use async_trait::async_trait;
use ghost_model::{Mode, ServiceName};
use serde::Serialize;
use std::time::Duration;

/// A configured service.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ServiceInfo {
    pub name: String,
    pub upstream: String,
    pub mode: String,
    /// The service accepts any certificate from its `https://` upstream.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_verify: bool,
    /// Why the service's configuration is unsafe, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// The mode of a scope.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ModeInfo {
    /// `null` for the global scope.
    pub service: Option<String>,
    /// What requests get now (may be TRANSITIONING).
    pub mode: Mode,
    /// What was asked for.
    pub target: Mode,
    /// Whether the service follows the global mode (no override of its own).
    pub inherited: bool,
}

/// One servable recording.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MockInfo {
    pub id: String,
    pub service: String,
    pub method: String,
    pub uri: String,
    pub status: u16,
    pub recorded_at_us: i64,
    pub session_id: String,
    pub body_bytes: usize,
}

/// Where clients reach the proxy, for `ghost record/replay --control-url`.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ProxyInfo {
    /// `http://ADDR` of the proxy listener (`None`: not in this process).
    pub proxy_url: Option<String>,
    /// The interception CA (PEM), while TLS interception is on.
    pub ca_cert: Option<String>,
}

/// One request answered while a run was open.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct RunEntry {
    pub service: Option<String>,
    pub method: String,
    pub target: String,
    pub status: u16,
    /// `exact`, `smart-swap`, `miss`, `learn`, `passthrough`, `transitioning`, `error`.
    pub answer: String,
    pub duration_ms: f64,
}

/// What a run collected so far.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct RunReport {
    pub id: u64,
    pub served: Vec<RunEntry>,
    /// Requests answered while the run's window was full.
    pub dropped: u64,
}

/// Read access to proxy state.
#[async_trait]
pub trait StateView: Send + Sync + 'static {
    fn services(&self) -> Vec<ServiceInfo>;
    fn has_service(&self, name: &ServiceName) -> bool;
    /// The mode of a scope (`None` = global).
    fn mode(&self, service: Option<&ServiceName>) -> ModeInfo;
    /// Recordings in log order, optionally of one service, including everything
    /// recorded until now: (total, page, whether the library caught up in time).
    async fn mocks(
        &self,
        service: Option<&ServiceName>,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<MockInfo>, bool);
    fn ready(&self) -> bool;
    /// Where clients reach the proxy.
    fn proxy(&self) -> ProxyInfo {
        ProxyInfo::default()
    }
    /// Opens a run: a window over every request the proxy answers from now
    /// on. `None`: this control plane cannot see the proxy's requests.
    fn open_run(&self) -> Option<u64> {
        None
    }
    /// What run `id` collected; `close` ends it. `None`: no such open run.
    fn run(&self, id: u64, close: bool) -> Option<RunReport> {
        let _ = (id, close);
        None
    }
    /// Waits until the modes-topic record at `offset` is applied and the scope has
    /// left TRANSITIONING, or `timeout` passes; returns the scope's mode then.
    async fn wait_mode_applied(
        &self,
        offset: u64,
        service: Option<&ServiceName>,
        timeout: Duration,
    ) -> ModeInfo;
}
