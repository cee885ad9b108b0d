//! Every schema version this build can read, embedded at compile time and parsed once.
//!
//! The table below is the single list of schema files; a test walks `schemas/` and fails
//! when a file is missing from it. Parsing happens lazily on first use; a broken embedded
//! schema is a programming error, but it surfaces as [`SchemaError::InvalidSchema`] from
//! every codec call rather than a panic, so a bad build degrades into clear errors.

use std::sync::LazyLock;

use apache_avro::schema::ResolvedSchema;
use apache_avro::{Schema, rabin::Rabin};

use crate::compat::check_backward_compatible;
use crate::contract::{SchemaId, Subject};
use crate::error::SchemaError;

/// One `schemas/<dir>/vN.avsc` compiled into the binary.
struct Embedded {
    id: SchemaId,
    file: &'static str,
    text: &'static str,
}

/// Generates the table entry so the file path shown in errors and the embedded text agree.
macro_rules! embed {
    ($subject:ident, $version:literal, $dir:literal) => {
        Embedded {
            id: SchemaId {
                subject: Subject::$subject,
                version: $version,
            },
            file: concat!("schemas/", $dir, "/v", $version, ".avsc"),
            text: include_str!(concat!("../../../schemas/", $dir, "/v", $version, ".avsc")),
        }
    };
}

/// All versions of all subjects, oldest first within a subject.
const EMBEDDED: &[Embedded] = &[
    embed!(Capture, 1, "capture"),
    embed!(Capture, 2, "capture"),
    embed!(Capture, 3, "capture"),
    embed!(Capture, 4, "capture"),
    embed!(ModeChange, 1, "mode_change"),
    embed!(ModeChange, 2, "mode_change"),
    embed!(LibraryEntry, 1, "library_entry"),
    embed!(LibraryEntry, 2, "library_entry"),
    embed!(ScrubbedCapture, 1, "scrubbed_capture"),
    embed!(ScrubbedCapture, 2, "scrubbed_capture"),
    embed!(ScrubConfig, 1, "scrub_config"),
];

/// One parsed schema version with the fingerprint records written with it carry.
#[derive(Debug)]
pub struct RegisteredSchema {
    /// Subject and version.
    pub id: SchemaId,
    /// Path of the source file relative to the repository root.
    pub file: &'static str,
    /// CRC-64-AVRO fingerprint of the canonical form, as the 64-bit little-endian value.
    pub fingerprint: u64,
    /// The parsed schema.
    pub schema: Schema,
}

/// The set of known schema versions; obtain it with [`registry`].
#[derive(Debug)]
pub struct Registry {
    schemas: Vec<RegisteredSchema>,
}

static REGISTRY: LazyLock<Result<Registry, SchemaError>> = LazyLock::new(Registry::load);

/// The process-wide registry, parsed on first call.
pub fn registry() -> Result<&'static Registry, SchemaError> {
    REGISTRY.as_ref().map_err(Clone::clone)
}

/// The 64-bit Rabin fingerprint of `schema`'s parsing canonical form.
pub(crate) fn fingerprint(schema: &Schema) -> u64 {
    let digest = schema.fingerprint::<Rabin>().bytes;
    let mut le = [0_u8; 8];
    for (slot, byte) in le.iter_mut().zip(digest) {
        *slot = byte;
    }
    u64::from_le_bytes(le)
}

impl Registry {
    /// Every registered version, grouped by subject, oldest first.
    pub fn all(&self) -> &[RegisteredSchema] {
        &self.schemas
    }

    /// The version whose fingerprint is `fingerprint`, if this build knows it.
    pub fn by_fingerprint(&self, fingerprint: u64) -> Option<&RegisteredSchema> {
        self.schemas.iter().find(|s| s.fingerprint == fingerprint)
    }

    /// One exact version.
    pub fn get(&self, id: SchemaId) -> Option<&RegisteredSchema> {
        self.schemas.iter().find(|s| s.id == id)
    }

    /// The newest version of `subject`, the one [`crate::encode`] writes.
    pub fn latest(&self, subject: Subject) -> Option<&RegisteredSchema> {
        self.versions(subject).last()
    }

    /// All versions of `subject`, oldest first.
    pub fn versions(&self, subject: Subject) -> impl Iterator<Item = &RegisteredSchema> {
        self.schemas.iter().filter(move |s| s.id.subject == subject)
    }

    fn load() -> Result<Registry, SchemaError> {
        let mut schemas: Vec<RegisteredSchema> = Vec::with_capacity(EMBEDDED.len());
        for embedded in EMBEDDED {
            let invalid = |detail: String| SchemaError::InvalidSchema {
                file: embedded.file,
                detail,
            };
            let schema = Schema::parse_str(embedded.text).map_err(|e| invalid(e.to_string()))?;
            // Value::validate panics on unresolvable names; refusing such a schema here is
            // what makes the codec's validate call safe.
            ResolvedSchema::try_from(&schema).map_err(|e| invalid(e.to_string()))?;
            let full_name = schema.name().map(|n| n.fullname(None));
            if full_name.as_deref() != Some(embedded.id.subject.name()) {
                return Err(invalid(format!(
                    "declares record {}, but is registered as {}",
                    full_name.as_deref().unwrap_or("(no name)"),
                    embedded.id.subject
                )));
            }
            let previous = schemas
                .iter()
                .rev()
                .find(|s| s.id.subject == embedded.id.subject);
            let expected_version = previous.map_or(1, |p| p.id.version + 1);
            if embedded.id.version != expected_version {
                return Err(invalid(format!(
                    "is registered as v{}, but the next version of {} is v{expected_version}",
                    embedded.id.version, embedded.id.subject
                )));
            }
            if let Some(previous) = previous {
                check_backward_compatible(&previous.schema, &schema)
                    .map_err(|e| invalid(format!("cannot read {}: {e}", previous.id)))?;
            }
            let fingerprint = fingerprint(&schema);
            if let Some(twin) = schemas.iter().find(|s| s.fingerprint == fingerprint) {
                return Err(invalid(format!(
                    "has the same canonical form as {}; a new version must change the schema",
                    twin.id
                )));
            }
            schemas.push(RegisteredSchema {
                id: embedded.id,
                file: embedded.file,
                fingerprint,
                schema,
            });
        }
        Ok(Registry { schemas })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_schemas_load_and_every_subject_has_a_latest_version() {
        let registry = registry().unwrap();
        assert_eq!(registry.all().len(), EMBEDDED.len());
        for subject in Subject::ALL {
            let latest = registry.latest(subject).unwrap();
            assert_eq!(latest.id.subject, subject);
        }
        assert_eq!(registry.latest(Subject::Capture).unwrap().id.version, 4);
    }

    #[test]
    fn fingerprint_matches_the_avro_spec_test_vector() {
        // From apache/avro share/test/data/schema-tests.txt: "null" -> 7195948357588979594.
        let schema = Schema::parse_str(r#""null""#).unwrap();
        assert_eq!(fingerprint(&schema) as i64, 7_195_948_357_588_979_594);
    }
}
