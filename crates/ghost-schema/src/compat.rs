//! Backward compatibility between two versions of a schema.
//!
//! The log is append-only and outlives builds, so a new schema version must read every
//! record an older version wrote. apache-avro's checker implements the resolution rules of
//! the specification; this module only adds ghost's policy on top of it: partial
//! compatibility (some enum symbols or union branches of old data unreadable) is refused,
//! because "usually readable" means some records in the log become poison.

use apache_avro::Schema;
use apache_avro::schema_compatibility::{Compatibility, SchemaCompatibility};

use crate::error::SchemaError;

/// Checks that `new` as reader schema can read everything written with `old`.
///
/// That holds when every field of `new` missing from `old` has a default, common fields
/// have the same or a promotable type (int → long, float → double, string ↔ bytes, ...),
/// and every enum symbol of `old` exists in `new` (or `new`'s enum has a default).
/// Returns [`SchemaError::Incompatible`] naming the first violation otherwise.
pub fn check_backward_compatible(old: &Schema, new: &Schema) -> Result<(), SchemaError> {
    match SchemaCompatibility::can_read(old, new) {
        Ok(Compatibility::Full) => Ok(()),
        Ok(Compatibility::Partial) => Err(SchemaError::Incompatible(
            "some values of the old schema (enum symbols or union branches) cannot be read \
             by the new one"
                .to_owned(),
        )),
        Err(error) => Err(SchemaError::Incompatible(error_chain(&error))),
    }
}

/// Flattens the checker's nested field errors into one line, e.g. `field 'a': field 'b': ...`.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &str) -> Schema {
        Schema::parse_str(&format!(
            r#"{{"type":"record","name":"R","namespace":"dev.ghost","fields":[{fields}]}}"#
        ))
        .unwrap()
    }

    const ENUM_AB: &str = r#"{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}"#;

    #[test]
    fn added_field_needs_a_default() {
        let old = record(r#"{"name":"a","type":"int"}"#);
        let with_default =
            record(r#"{"name":"a","type":"int"},{"name":"b","type":"string","default":""}"#);
        let without_default = record(r#"{"name":"a","type":"int"},{"name":"b","type":"string"}"#);
        assert_eq!(check_backward_compatible(&old, &with_default), Ok(()));
        let err = check_backward_compatible(&old, &without_default).unwrap_err();
        assert!(matches!(err, SchemaError::Incompatible(_)), "{err}");
        assert!(err.to_string().contains('b'), "{err}");
    }

    #[test]
    fn promotion_is_allowed_but_narrowing_is_not() {
        let int = record(r#"{"name":"a","type":"int"}"#);
        let long = record(r#"{"name":"a","type":"long"}"#);
        assert_eq!(check_backward_compatible(&int, &long), Ok(()));
        assert!(check_backward_compatible(&long, &int).is_err());
    }

    #[test]
    fn removed_enum_symbol_is_refused_unless_the_reader_has_a_default() {
        let ab = record(ENUM_AB);
        let abc =
            record(r#"{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}}"#);
        let a_only = record(r#"{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}}"#);
        let a_with_default = record(
            r#"{"name":"e","type":{"type":"enum","name":"E","symbols":["A"],"default":"A"}}"#,
        );
        assert_eq!(check_backward_compatible(&ab, &abc), Ok(()));
        assert!(check_backward_compatible(&ab, &a_only).is_err());
        assert_eq!(check_backward_compatible(&ab, &a_with_default), Ok(()));
    }
}
