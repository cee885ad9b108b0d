//! Which record a schema describes, and how a record type declares it.
//!
//! A [`Subject`] is one record name (`dev.ghost.Capture`); it has any number of schema
//! versions. The fingerprint in a record names one exact version, the [`SchemaId`].

use std::fmt;

use serde::{Serialize, de::DeserializeOwned};

/// One Avro record name with its own line of schema versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// `dev.ghost.Capture`, the records of `ghost.captures.v1`.
    Capture,
    /// `dev.ghost.ModeChange`, the records of `ghost.modes.v1`.
    ModeChange,
    /// `dev.ghost.LibraryEntry`, the records of `ghost.library.v1`.
    LibraryEntry,
    /// `dev.ghost.ScrubbedCapture`, the records of `ghost.scrubbed.v1`.
    ScrubbedCapture,
    /// `dev.ghost.ScrubConfig`, scrub rule sets on `ghost.config.v1`.
    ScrubConfig,
}

impl Subject {
    /// Every subject, for walks over the registry and the schema folders.
    pub const ALL: [Subject; 5] = [
        Subject::Capture,
        Subject::ModeChange,
        Subject::LibraryEntry,
        Subject::ScrubbedCapture,
        Subject::ScrubConfig,
    ];

    /// Full Avro name of the record; must equal the `namespace.name` in its `.avsc` files.
    pub const fn name(self) -> &'static str {
        match self {
            Subject::Capture => "dev.ghost.Capture",
            Subject::ModeChange => "dev.ghost.ModeChange",
            Subject::LibraryEntry => "dev.ghost.LibraryEntry",
            Subject::ScrubbedCapture => "dev.ghost.ScrubbedCapture",
            Subject::ScrubConfig => "dev.ghost.ScrubConfig",
        }
    }

    /// Folder under `schemas/` holding this subject's `vN.avsc` files.
    pub const fn dir(self) -> &'static str {
        match self {
            Subject::Capture => "capture",
            Subject::ModeChange => "mode_change",
            Subject::LibraryEntry => "library_entry",
            Subject::ScrubbedCapture => "scrubbed_capture",
            Subject::ScrubConfig => "scrub_config",
        }
    }

    /// The subject whose schema folder is `dir`, if any.
    pub fn from_dir(dir: &str) -> Option<Subject> {
        Subject::ALL.into_iter().find(|s| s.dir() == dir)
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One exact schema version of a subject; displays as `dev.ghost.Capture/v2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchemaId {
    /// The record the schema describes.
    pub subject: Subject,
    /// The `N` of `schemas/<subject>/vN.avsc`, starting at 1.
    pub version: u32,
}

impl fmt::Display for SchemaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/v{}", self.subject.name(), self.version)
    }
}

/// A Rust wire struct that is the shape of the latest schema version of [`Self::SUBJECT`].
///
/// Implemented only in this crate, next to the schema files, so a struct and its schema
/// change in the same commit. [`crate::encode`] writes it with the latest version;
/// [`crate::decode`] reads any registered version of the subject into it.
pub trait Contract: Serialize + DeserializeOwned {
    /// The subject whose latest schema this type mirrors field for field.
    const SUBJECT: Subject;
}
