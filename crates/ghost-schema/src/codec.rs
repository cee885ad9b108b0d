//! Single-object encoding and decoding of wire structs.
//!
//! Layout: `C3 01`, the writer schema's 8-byte little-endian Rabin fingerprint, then the
//! Avro binary datum. Decoding trusts nothing in the bytes: every failure is a
//! [`SchemaError`], and a record must be consumed exactly (trailing bytes are an error,
//! because a log record is one datum and extra bytes mean a framing bug upstream).

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use std::sync::LazyLock;

use crate::contract::{Contract, SchemaId, Subject};
use crate::error::{SchemaError, describe, is_eof};
use crate::registry::{RegisteredSchema, Registry, registry};

/// A reader and a writer per registered schema, built once: building them resolves
/// every named type of the schema, which cost more than decoding a small record.
struct Codecs {
    readers: Vec<GenericDatumReader<'static>>,
    writers: Vec<GenericDatumWriter<'static>>,
}

static CODECS: LazyLock<Result<Codecs, SchemaError>> = LazyLock::new(|| {
    let registry = registry()?;
    let mut readers = Vec::with_capacity(registry.all().len());
    let mut writers = Vec::with_capacity(registry.all().len());
    for s in registry.all() {
        readers.push(
            GenericDatumReader::builder(&s.schema)
                .build()
                .map_err(|e| SchemaError::Decode(describe(&e)))?,
        );
        writers.push(
            GenericDatumWriter::builder(&s.schema)
                .build()
                .map_err(|e| SchemaError::Encode(describe(&e)))?,
        );
    }
    Ok(Codecs { readers, writers })
});

fn codecs() -> Result<&'static Codecs, SchemaError> {
    CODECS.as_ref().map_err(Clone::clone)
}

/// Position of `schema` in the registry (a handful of entries).
fn index_of(registry: &Registry, schema: &RegisteredSchema) -> usize {
    registry
        .all()
        .iter()
        .position(|s| std::ptr::eq(s, schema))
        .unwrap_or(0)
}

/// The two bytes every single-object encoded record starts with.
pub const MAGIC: [u8; 2] = [0xC3, 0x01];

/// Length of the single-object header: magic plus 8-byte fingerprint.
pub const HEADER_LEN: usize = 10;

/// Encodes `value` with the latest schema version of its subject.
///
/// # Errors
/// [`SchemaError::Encode`] only if the wire struct and its schema disagree (a bug caught
/// by the round-trip tests); [`SchemaError::InvalidSchema`] if the embedded schemas are bad.
pub fn encode<T: Contract>(value: &T) -> Result<Vec<u8>, SchemaError> {
    let registry = registry()?;
    let latest = latest(registry, T::SUBJECT)?;
    let mut out = header(latest);
    let writer = codecs()?
        .writers
        .get(index_of(registry, latest))
        .ok_or_else(|| SchemaError::Encode("no writer for the latest schema".to_owned()))?;
    writer
        .write_ser(&mut out, value)
        .map_err(|e| SchemaError::Encode(describe(&e)))?;
    Ok(out)
}

/// Encodes `value` with an older registered schema version of its subject.
///
/// Fields the older version does not have are dropped, so this is a downgrade: it exists
/// to produce the records an older build would have written (tests, and producers that
/// must stay readable by not-yet-upgraded consumers during a rolling deploy). Asking for
/// the latest version is the same as [`encode`].
pub fn encode_with_version<T: Contract>(value: &T, version: u32) -> Result<Vec<u8>, SchemaError> {
    let registry = registry()?;
    let id = SchemaId {
        subject: T::SUBJECT,
        version,
    };
    let target = registry.get(id).ok_or(SchemaError::UnknownVersion {
        subject: T::SUBJECT,
        version,
    })?;
    if target.id == latest(registry, T::SUBJECT)?.id {
        return encode(value);
    }
    // The schema-aware serializer refuses fields the schema lacks, so go through a
    // schema-less `Value` and let resolution pick the older version's fields.
    let projected = apache_avro::to_value(value)
        .and_then(|v| v.resolve(&target.schema))
        .map_err(|e| SchemaError::Encode(describe(&e)))?;
    let mut out = header(target);
    GenericDatumWriter::builder(&target.schema)
        .build()
        .map_err(|e| SchemaError::Encode(describe(&e)))?
        .write_value_ref(&mut out, &projected)
        .map_err(|e| SchemaError::Encode(describe(&e)))?;
    Ok(out)
}

/// Decodes a record of `T`'s subject written with any registered version of it.
///
/// Older versions are resolved to the latest one, so fields added since get their schema
/// defaults.
///
/// # Errors
/// [`SchemaError::BadMagic`] for bytes that are not a single-object record,
/// [`SchemaError::Truncated`] when they end early, [`SchemaError::UnknownFingerprint`] for a
/// schema this build does not embed, [`SchemaError::WrongSubject`] for a record of another
/// type, [`SchemaError::Decode`] for a damaged datum or trailing bytes.
pub fn decode<T: Contract>(bytes: &[u8]) -> Result<T, SchemaError> {
    let registry = registry()?;
    let (writer, mut body) = split(registry, bytes)?;
    if writer.id.subject != T::SUBJECT {
        return Err(SchemaError::WrongSubject {
            expected: T::SUBJECT,
            found: writer.id,
        });
    }
    let latest = latest(registry, T::SUBJECT)?;
    let reader = codecs()?
        .readers
        .get(index_of(registry, writer))
        .ok_or_else(|| SchemaError::Decode(format!("no reader for {}", writer.id)))?;
    let read_err = |e: apache_avro::Error| {
        if is_eof(&e) {
            SchemaError::Truncated
        } else {
            SchemaError::Decode(describe(&e))
        }
    };
    if writer.id == latest.id {
        // Fast path (every record this build writes): deserialize straight into `T`
        // without building a `Value` tree. Its errors are not classified (EOF vs
        // damage), so any failure is decoded again below to say what went wrong.
        let mut fast = body;
        if let (Ok(decoded), true) = (reader.read_deser::<T>(&mut fast), fast.is_empty()) {
            return Ok(decoded);
        }
    }
    let value = reader.read_value(&mut body).map_err(read_err)?;
    trailing(body, writer)?;
    // apache-avro reads a boolean cut off by the end of input as null instead of failing,
    // so a datum missing its last byte can "succeed". A freshly decoded value fails its
    // own writer schema only that way, hence the check and the Truncated verdict.
    if !value.validate(&writer.schema) {
        return Err(SchemaError::Truncated);
    }
    let value = value
        .resolve(&latest.schema)
        .map_err(|e| SchemaError::Decode(describe(&e)))?;
    apache_avro::from_value::<T>(&value).map_err(|e| SchemaError::Decode(describe(&e)))
}

fn trailing(body: &[u8], writer: &RegisteredSchema) -> Result<(), SchemaError> {
    if body.is_empty() {
        Ok(())
    } else {
        Err(SchemaError::Decode(format!(
            "{} unexpected bytes after the end of the {} datum",
            body.len(),
            writer.id
        )))
    }
}

/// Names the schema a record was written with, without decoding its body.
///
/// # Errors
/// The header errors of [`decode`]: `BadMagic`, `Truncated`, `UnknownFingerprint`.
pub fn schema_id(bytes: &[u8]) -> Result<SchemaId, SchemaError> {
    let registry = registry()?;
    split(registry, bytes).map(|(writer, _)| writer.id)
}

fn header(schema: &RegisteredSchema) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&schema.fingerprint.to_le_bytes());
    out
}

/// Splits a record into its writer schema and datum.
fn split<'r, 'b>(
    registry: &'r Registry,
    bytes: &'b [u8],
) -> Result<(&'r RegisteredSchema, &'b [u8]), SchemaError> {
    // Compare what is there of the magic first, so a short non-ghost input reads as
    // "not ours" rather than "truncated".
    let seen = bytes.len().min(MAGIC.len());
    if bytes.get(..seen) != MAGIC.get(..seen) {
        return Err(SchemaError::BadMagic);
    }
    let Some((_, rest)) = bytes.split_first_chunk::<2>() else {
        return Err(SchemaError::Truncated);
    };
    let Some((fingerprint, body)) = rest.split_first_chunk::<8>() else {
        return Err(SchemaError::Truncated);
    };
    let fingerprint = u64::from_le_bytes(*fingerprint);
    let writer = registry
        .by_fingerprint(fingerprint)
        .ok_or(SchemaError::UnknownFingerprint(fingerprint))?;
    Ok((writer, body))
}

fn latest(registry: &Registry, subject: Subject) -> Result<&RegisteredSchema, SchemaError> {
    // The registry table always lists every subject; this only guards an edit that drops one.
    registry.latest(subject).ok_or(SchemaError::UnknownVersion {
        subject,
        version: 1,
    })
}
