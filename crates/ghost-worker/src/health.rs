//! Worker health: a state and the time of the last progress, shared with
//! whatever serves `/healthz`.

use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    Starting,
    Running,
    /// Retrying a transient failure (sink or log unavailable).
    Degraded,
    Stopping,
    Stopped,
    Failed,
}

impl HealthState {
    /// The state as `/readyz` reports it.
    pub fn label(self) -> &'static str {
        match self {
            HealthState::Starting => "starting",
            HealthState::Running => "running",
            HealthState::Degraded => "degraded",
            HealthState::Stopping => "stopping",
            HealthState::Stopped => "stopped",
            HealthState::Failed => "failed",
        }
    }
}

/// Shared, cheap to clone.
#[derive(Debug, Clone)]
pub struct Health {
    inner: Arc<Mutex<(HealthState, Instant)>>,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new((HealthState::Starting, Instant::now()))),
        }
    }
}

impl Health {
    pub fn set(&self, state: HealthState) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *g = (state, Instant::now());
    }

    /// Current state and when it was last set (progress refreshes it).
    pub fn get(&self) -> (HealthState, Instant) {
        *self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}
