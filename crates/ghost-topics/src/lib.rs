//! ghost-topics: the topic catalogue, the one place the topic contract lives.
//!
//! A [`Topic<T>`] ties a topic's name to its spec (read from `topics/*.toml`,
//! compiled in), the [`Contract`](ghost_schema::Contract) of its records, and
//! how a record's key is derived. Producers build records with
//! [`Topic::record`], consumers read them with [`Topic::decode`]; nothing else
//! spells a topic name or a schema header. `tests/catalogue.rs` checks the
//! constants here against the files.

mod files;
mod topic;

pub use files::{FILES, FileError, TopicFile, file, files};
pub use topic::{DecodeError, RawTopic, SCHEMA_HEADER, Topic, TopicError};

use ghost_schema::{
    CaptureRecord, LibraryEntryRecord, ModeChangeRecord, ScrubConfigRecord, ScrubbedCaptureRecord,
};

/// Every LEARN exchange: credential headers redacted, bodies verbatim. Key: service.
pub const CAPTURES: Topic<CaptureRecord> = Topic::new(
    "ghost.captures.v1",
    |c| c.service.clone(),
    |c| c.started_at_us / 1000,
);

/// Captures after PII scrubbing, sealed. Key: service.
pub const SCRUBBED: Topic<ScrubbedCaptureRecord> = Topic::new(
    "ghost.scrubbed.v1",
    |c| c.service.clone(),
    |c| c.started_at_us / 1000,
);

/// Mode changes with barrier offsets. Key: scope. Compacted.
pub const MODES: Topic<ModeChangeRecord> = Topic::new(
    "ghost.modes.v1",
    |m| mode_scope_key(m.service.as_deref()),
    |_| 0,
);

/// Operator edits, seeds and deletions of library entries. Key: entry id. Compacted.
pub const LIBRARY: Topic<LibraryEntryRecord> =
    Topic::new("ghost.library.v1", |e| e.entry_id.clone(), |_| 0);

/// Worker configuration (scrub rule sets). Key: `scrub:<service>` or `scrub:*`. Compacted.
pub const CONFIG: Topic<ScrubConfigRecord> = Topic::new(
    "ghost.config.v1",
    |c| scrub_scope_key(c.service.as_deref()),
    |_| 0,
);

/// Records a worker can never handle: the input's bytes, the reason in headers.
pub const DEAD_LETTER: RawTopic = RawTopic::new("ghost.deadletter.v1");

/// The compaction key of a mode record.
pub fn mode_scope_key(service: Option<&str>) -> String {
    match service {
        None => "global".to_owned(),
        Some(s) => format!("service:{s}"),
    }
}

/// The compaction key of a scrub rule set.
pub fn scrub_scope_key(service: Option<&str>) -> String {
    format!("scrub:{}", service.unwrap_or("*"))
}

/// The names of every catalogued topic, typed or raw.
pub const ALL: [&str; 6] = [
    CAPTURES.name(),
    SCRUBBED.name(),
    MODES.name(),
    LIBRARY.name(),
    CONFIG.name(),
    DEAD_LETTER.name(),
];
