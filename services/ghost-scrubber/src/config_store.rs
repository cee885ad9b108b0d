//! Scrub configurations as the worker applies them: compiled scrubbers per
//! service, replaced atomically as records arrive on `ghost.config.v1`.
//!
//! Every scrubber instance reads the whole config topic (not a consumer group),
//! so all instances apply the same rules.

use arc_swap::ArcSwap;
use ghost_schema::ScrubConfigRecord;
use ghost_scrub::{ScrubConfig, ScrubRule, Scrubber, ScrubberError};
use std::collections::HashMap;
use std::sync::Arc;

/// One compiled configuration.
#[derive(Debug)]
pub struct Compiled {
    /// Id of the config record; empty for the built-in defaults.
    pub id: String,
    pub scrubber: Scrubber,
    /// Header names redacted whole on top of the floor.
    pub extra_headers: Vec<String>,
}

#[derive(Debug, Default)]
struct Configs {
    default: Option<Arc<Compiled>>,
    services: HashMap<String, Arc<Compiled>>,
}

/// The configurations in force.
#[derive(Debug)]
pub struct ConfigStore {
    builtin: Arc<Compiled>,
    current: ArcSwap<Configs>,
}

/// Turns a config record into the engine's configuration.
pub fn to_config(r: &ScrubConfigRecord) -> Result<ScrubConfig, String> {
    let rules = r
        .rules
        .iter()
        .map(|rule| {
            let replacement = serde_json::from_str(&rule.replacement_json)
                .map_err(|e| format!("rule {}: replacement is not JSON: {e}", rule.path))?;
            Ok(ScrubRule {
                path: rule.path.clone(),
                replacement,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(ScrubConfig {
        rules,
        extra_keys: r.extra_keys.clone(),
        enabled: r.enabled,
    })
}

impl ConfigStore {
    pub fn new() -> Result<Self, ScrubberError> {
        Ok(Self {
            builtin: Arc::new(Compiled {
                id: String::new(),
                scrubber: Scrubber::new(ScrubConfig::default())?,
                extra_headers: Vec::new(),
            }),
            current: ArcSwap::from_pointee(Configs::default()),
        })
    }

    /// The configuration for a service: its own, else the defaults record, else
    /// the built-in defaults.
    pub fn for_service(&self, service: &str) -> Arc<Compiled> {
        let c = self.current.load();
        c.services
            .get(service)
            .or(c.default.as_ref())
            .cloned()
            .unwrap_or_else(|| self.builtin.clone())
    }

    /// Applies one config record. A record that does not compile (it was validated
    /// when saved, so only a newer build's record can) is skipped with a warning.
    pub fn apply(&self, r: &ScrubConfigRecord) {
        let compiled = to_config(r)
            .map_err(|e| e.to_string())
            .and_then(|c| Scrubber::new(c).map_err(|e| e.to_string()));
        let scrubber = match compiled {
            Ok(s) => s,
            Err(error) => {
                tracing::warn!(%error, id = %r.id, "scrub config skipped");
                return;
            }
        };
        let compiled = Arc::new(Compiled {
            id: r.id.clone(),
            scrubber,
            extra_headers: r
                .extra_headers
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
        });
        let cur = self.current.load();
        let mut next = Configs {
            default: cur.default.clone(),
            services: cur.services.clone(),
        };
        match &r.service {
            Some(s) => {
                next.services.insert(s.clone(), compiled);
            }
            None => next.default = Some(compiled),
        }
        self.current.store(Arc::new(next));
    }
}
