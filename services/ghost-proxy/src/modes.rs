//! The mode table: the effective mode of every service, swapped atomically.

use ghost_model::{Mode, ServiceName};
use std::collections::HashMap;
use std::sync::Arc;

/// A scope's mode and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeState {
    /// What requests get now (may be TRANSITIONING).
    pub mode: Mode,
    /// What was asked for (never TRANSITIONING).
    pub target: Mode,
    /// The LEARN window captures are recorded under.
    pub session: Arc<str>,
    /// Offset of the mode record that set this (`None`: the first-start default).
    pub offset: Option<u64>,
}

impl ModeState {
    pub fn initial() -> Self {
        Self {
            mode: Mode::Learn,
            target: Mode::Learn,
            session: Arc::from("initial"),
            offset: None,
        }
    }
}

/// Global mode plus per-service overrides. Immutable; replaced as a whole.
#[derive(Debug, Clone)]
pub struct ModeTable {
    pub global: ModeState,
    pub services: HashMap<ServiceName, ModeState>,
}

impl Default for ModeTable {
    fn default() -> Self {
        Self {
            global: ModeState::initial(),
            services: HashMap::new(),
        }
    }
}

impl ModeTable {
    /// The state that applies to `service`: its override, else the global one.
    pub fn effective(&self, service: &ServiceName) -> &ModeState {
        self.services.get(service).unwrap_or(&self.global)
    }

    /// The state of one scope (`None` = global).
    pub fn scope(&self, service: Option<&ServiceName>) -> Option<&ModeState> {
        match service {
            None => Some(&self.global),
            Some(s) => self.services.get(s),
        }
    }

    /// Whether any scope serves (or is about to serve) from the library. While
    /// nothing does, the library is materialized only on demand.
    pub fn serves_library(&self) -> bool {
        std::iter::once(&self.global)
            .chain(self.services.values())
            .any(|s| s.mode != Mode::Learn && s.mode != Mode::Passthrough)
    }

    /// Whether any scope forwards (or is about to: LEARN, PASSTHROUGH, or a
    /// change back to them pending).
    pub fn forwards(&self) -> bool {
        std::iter::once(&self.global)
            .chain(self.services.values())
            .any(|s| {
                matches!(s.mode, Mode::Learn | Mode::Passthrough)
                    || matches!(s.target, Mode::Learn | Mode::Passthrough)
            })
    }

    pub fn with_scope(&self, service: Option<&ServiceName>, state: ModeState) -> Self {
        let mut next = self.clone();
        match service {
            None => next.global = state,
            Some(s) => {
                next.services.insert(s.clone(), state);
            }
        }
        next
    }
}
