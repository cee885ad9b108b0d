//! The files of `topics/`, compiled in so every binary carries the contract
//! it was built with (`ghost topics apply` applies exactly these).

use ghost_log::TopicSpec;
use serde::Deserialize;
use std::sync::OnceLock;

/// `(file name, text)` of every file under `topics/`.
pub const FILES: [(&str, &str); 6] = [
    (
        "ghost.captures.v1.toml",
        include_str!("../../../topics/ghost.captures.v1.toml"),
    ),
    (
        "ghost.modes.v1.toml",
        include_str!("../../../topics/ghost.modes.v1.toml"),
    ),
    (
        "ghost.library.v1.toml",
        include_str!("../../../topics/ghost.library.v1.toml"),
    ),
    (
        "ghost.scrubbed.v1.toml",
        include_str!("../../../topics/ghost.scrubbed.v1.toml"),
    ),
    (
        "ghost.config.v1.toml",
        include_str!("../../../topics/ghost.config.v1.toml"),
    ),
    (
        "ghost.deadletter.v1.toml",
        include_str!("../../../topics/ghost.deadletter.v1.toml"),
    ),
];

/// One topic file.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TopicFile {
    pub name: String,
    /// What the key is, in words (`service`, `scope`, ...).
    pub key: String,
    pub partitions: u32,
    pub replication: u32,
    /// `delete` or `compact`.
    pub cleanup_policy: String,
    pub retention_ms: i64,
    /// The folder under `schemas/` of the records' subject (`input` for dead letters).
    pub schema: String,
}

impl TopicFile {
    pub fn spec(&self) -> TopicSpec {
        TopicSpec {
            name: self.name.clone(),
            partitions: self.partitions,
            compacted: self.cleanup_policy == "compact",
            retention_ms: Some(self.retention_ms),
        }
    }
}

/// A compiled-in topic file that does not parse, or a topic without a file:
/// a build defect, reported instead of guessed around.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FileError {
    #[error("topics/{file} is invalid: {reason}")]
    Invalid { file: &'static str, reason: String },
    #[error("topic {0} has no file under topics/")]
    Missing(String),
}

/// Every topic file, parsed once.
pub fn files() -> Result<&'static [TopicFile], FileError> {
    static PARSED: OnceLock<Result<Vec<TopicFile>, FileError>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            FILES
                .iter()
                .map(|(file, text)| {
                    toml::from_str(text).map_err(|e| FileError::Invalid {
                        file,
                        reason: e.to_string(),
                    })
                })
                .collect()
        })
        .as_deref()
        .map_err(Clone::clone)
}

/// The file of topic `name`.
pub fn file(name: &str) -> Result<&'static TopicFile, FileError> {
    files()?
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| FileError::Missing(name.to_owned()))
}
