//! Topic names: the contract between the proxy and every worker (see `topics/`).
//!
//! A name changes (`.v2`) only on an incompatible schema change.

/// Every LEARN exchange: header-redacted, body verbatim. Key: service.
pub const CAPTURES: &str = "ghost.captures.v1";
/// Mode changes with barrier offsets. Key: scope (`global` or the service). Compacted.
pub const MODES: &str = "ghost.modes.v1";
/// Operator edits, seeds and deletions. Key: entry id. Compacted.
pub const LIBRARY: &str = "ghost.library.v1";

/// Captures after PII scrubbing, sealed. Key: service.
pub const SCRUBBED: &str = "ghost.scrubbed.v1";
/// Worker configuration events (scrub rule sets). Key: `scrub:<service>`. Compacted.
pub const CONFIG: &str = "ghost.config.v1";
/// Records a worker can never handle, with the reason in headers.
pub const DEAD_LETTER: &str = "ghost.deadletter.v1";

/// Partitions of the captures topic in the embedded log. One service always lands
/// on one partition, so per-service order is the log order.
pub const CAPTURES_PARTITIONS: u32 = 4;

/// The compaction key of a mode record.
pub fn mode_scope_key(service: Option<&str>) -> String {
    match service {
        None => "global".to_owned(),
        Some(s) => format!("service:{s}"),
    }
}
