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
    /// Waits until the modes-topic record at `offset` is applied and the scope has
    /// left TRANSITIONING, or `timeout` passes; returns the scope's mode then.
    async fn wait_mode_applied(
        &self,
        offset: u64,
        service: Option<&ServiceName>,
        timeout: Duration,
    ) -> ModeInfo;
}
