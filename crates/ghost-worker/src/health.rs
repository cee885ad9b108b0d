//! Worker health: a state and the time of the last progress, shared with
//! whatever serves `/healthz`. A worker that runs several loops (the
//! projector: one per input topic) gives each a [`Health::part`]; the whole
//! then reports its worst part.

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

    /// How bad a state is, for reporting the worst of several parts.
    fn severity(self) -> u8 {
        match self {
            HealthState::Running => 0,
            HealthState::Stopped => 1,
            HealthState::Stopping => 2,
            HealthState::Starting => 3,
            HealthState::Degraded => 4,
            HealthState::Failed => 5,
        }
    }
}

#[derive(Debug)]
struct Node {
    state: Mutex<(HealthState, Instant)>,
    parts: Mutex<Vec<Arc<Node>>>,
}

impl Node {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new((HealthState::Starting, Instant::now())),
            parts: Mutex::new(Vec::new()),
        })
    }

    fn get(&self) -> (HealthState, Instant) {
        let own = *self.state.lock().unwrap_or_else(|p| p.into_inner());
        let parts = self.parts.lock().unwrap_or_else(|p| p.into_inner()).clone();
        // A whole that failed (its task ended in error) is failed, whatever its parts say.
        if parts.is_empty() || own.0 == HealthState::Failed {
            return own;
        }
        parts
            .iter()
            .map(|p| p.get())
            .max_by_key(|(s, _)| s.severity())
            .unwrap_or((HealthState::Starting, Instant::now()))
    }
}

/// Shared, cheap to clone.
#[derive(Debug, Clone)]
pub struct Health {
    node: Arc<Node>,
}

impl Default for Health {
    fn default() -> Self {
        Self { node: Node::new() }
    }
}

impl Health {
    pub fn set(&self, state: HealthState) {
        let mut g = self.node.state.lock().unwrap_or_else(|p| p.into_inner());
        *g = (state, Instant::now());
    }

    /// Current state and when it was last set (progress refreshes it); with
    /// parts, the worst part's.
    pub fn get(&self) -> (HealthState, Instant) {
        self.node.get()
    }

    /// A part of this health: once a health has parts, it reports the worst
    /// of them (its own `set` counts only for Failed).
    pub fn part(&self) -> Health {
        let node = Node::new();
        self.node
            .parts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(node.clone());
        Health { node }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_reports_its_worst_part() {
        let whole = Health::default();
        let (a, b) = (whole.part(), whole.part());
        a.set(HealthState::Running);
        b.set(HealthState::Running);
        assert_eq!(whole.get().0, HealthState::Running);
        b.set(HealthState::Degraded);
        assert_eq!(whole.get().0, HealthState::Degraded);
        a.set(HealthState::Failed);
        assert_eq!(whole.get().0, HealthState::Failed);
    }
}
