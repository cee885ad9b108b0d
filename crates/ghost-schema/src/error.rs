//! The one error type of the codec, and the translation of apache-avro's errors into it.
//!
//! apache-avro's `Display` often embeds `{:?}` dumps of whole schemas or values (a capture
//! body can be megabytes), so its errors are never passed through verbatim: [`describe`]
//! keeps the useful part and caps the length.

use apache_avro::error::Details;

use crate::contract::{SchemaId, Subject};

/// Longest apache-avro message kept in [`SchemaError::Decode`] / [`SchemaError::Encode`].
const MAX_DETAIL_CHARS: usize = 240;

/// Why a record could not be encoded or decoded, or a schema could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The bytes do not start with the single-object marker `C3 01`.
    #[error("not a ghost Avro record: it does not start with the single-object marker C3 01")]
    BadMagic,
    /// The bytes end inside the 10-byte header or inside the datum.
    #[error("record is truncated: the bytes end before the header or body is complete")]
    Truncated,
    /// The fingerprint matches no schema this build embeds.
    #[error(
        "record was written with schema fingerprint {0:#018x}, which this build does not know \
         (written by a newer ghost, or not a ghost record)"
    )]
    UnknownFingerprint(u64),
    /// The record is a valid ghost record, but of another subject than asked for.
    #[error("record is a {found}, not the expected {expected}")]
    WrongSubject {
        /// The subject the caller asked to decode.
        expected: Subject,
        /// The schema the record was actually written with.
        found: SchemaId,
    },
    /// The datum does not match its writer schema, or cannot become the wire struct.
    #[error("cannot decode record body: {0}")]
    Decode(String),
    /// The value does not fit the writer schema (a wire struct out of step with its schema).
    #[error("cannot encode record: {0}")]
    Encode(String),
    /// An embedded schema failed to parse or is inconsistent with the registry table.
    #[error("embedded schema {file} is invalid: {detail}")]
    InvalidSchema {
        /// Path of the schema file under the repository root.
        file: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A newer schema cannot read data written with an older one.
    #[error("schema is not backward compatible: {0}")]
    Incompatible(String),
    /// [`crate::encode_with_version`] asked for a version that is not registered.
    #[error("no schema version v{version} is registered for {subject}")]
    UnknownVersion {
        /// The subject asked for.
        subject: Subject,
        /// The version asked for.
        version: u32,
    },
}

/// A short, human description of an apache-avro error, without schema or value dumps.
pub(crate) fn describe(error: &apache_avro::Error) -> String {
    let text = match error.details() {
        Details::SerializeRecordFieldWithSchema {
            field_name,
            record_schema,
            error,
        } => format!("field '{field_name}' of {}: {error}", record_schema.name),
        Details::MissingDefaultForSkippedField { field_name, schema } => format!(
            "field '{field_name}' of {} was skipped and has no default",
            schema.name
        ),
        Details::SerializeValueWithSchema {
            value_type, value, ..
        } => format!("a {value_type} does not fit the schema here: {value}"),
        Details::ValidationWithReason { reason, .. } => {
            format!("value does not match the schema: {reason}")
        }
        Details::MemoryAllocation { desired, .. } => match desired {
            Some(len) => format!("declared length {len} exceeds the allocation limit"),
            None => "declared length exceeds the allocation limit".to_owned(),
        },
        _ => error.to_string(),
    };
    cap(text)
}

/// Whether apache-avro gave up because the input ended, as opposed to reading nonsense.
pub(crate) fn is_eof(error: &apache_avro::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::UnexpectedEof
        {
            return true;
        }
        source = current.source();
    }
    false
}

fn cap(mut text: String) -> String {
    if let Some((cut, _)) = text.char_indices().nth(MAX_DETAIL_CHARS) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_keeps_short_text_and_cuts_long_text_on_a_char_boundary() {
        assert_eq!(cap("short".to_owned()), "short");
        let long = "é".repeat(MAX_DETAIL_CHARS + 10);
        let capped = cap(long);
        assert_eq!(capped.chars().count(), MAX_DETAIL_CHARS + 1);
        assert!(capped.ends_with('…'));
    }

    #[test]
    fn display_names_subjects_and_versions() {
        let err = SchemaError::WrongSubject {
            expected: Subject::ModeChange,
            found: SchemaId {
                subject: Subject::Capture,
                version: 2,
            },
        };
        assert_eq!(
            err.to_string(),
            "record is a dev.ghost.Capture/v2, not the expected dev.ghost.ModeChange"
        );
        assert!(
            SchemaError::UnknownFingerprint(0xdead)
                .to_string()
                .contains("0x000000000000dead")
        );
    }
}
