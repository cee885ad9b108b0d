//! Sans-io Avro codec for the records ghost appends to its log.
//!
//! ghost's durable state is an append-only log (Kafka topics or the embedded log); every
//! record on it is Avro in [single-object encoding]: the marker `C3 01`, the 8-byte
//! little-endian CRC-64-AVRO (Rabin) fingerprint of the writer schema's canonical form,
//! then the binary datum. The fingerprint is what lets a newer build read records an
//! older build wrote years ago: [`decode`] looks the writer schema up among every version
//! this crate embeds and resolves it to the latest one.
//!
//! The crate is pure: no I/O beyond the `include_str!` of `schemas/<record>/vN.avsc`.
//! Callers pick a wire struct ([`CaptureRecord`], [`ModeChangeRecord`],
//! [`LibraryEntryRecord`]), call [`encode`] before appending and [`decode`] after reading.
//!
//! Adding a schema version: write `schemas/<record>/v(N+1).avsc`, backward compatible with
//! vN (new fields need defaults), add it to the embedded table in `registry.rs` and update
//! the wire struct. The tests refuse a schema file that is not registered and a version
//! that cannot read its predecessor's data.
//!
//! [single-object encoding]: https://avro.apache.org/docs/1.12.0/specification/#single-object-encoding

mod capture_writer;
mod codec;
mod compat;
mod contract;
mod error;
mod records;
mod registry;
mod scrub_records;
pub mod seal;

pub use apache_avro::Schema;
pub use capture_writer::{CAPTURE_WRITER_VERSION, CaptureFields, encode_capture};
pub use codec::{HEADER_LEN, MAGIC, decode, encode, encode_with_version, schema_id};
pub use compat::check_backward_compatible;
pub use contract::{Contract, SchemaId, Subject};
pub use error::SchemaError;
pub use records::{
    CaptureRecord, DEFAULT_TENANT, HeaderRecord, LibraryEntryRecord, LibraryOp, ModeChangeRecord,
    ModeRecord, PartitionOffsetRecord, RequestSpecRecord, ResponseSpecRecord, default_tenant,
};
pub use registry::{RegisteredSchema, Registry, registry};
pub use scrub_records::{FindingRecord, ScrubConfigRecord, ScrubRuleRecord, ScrubbedCaptureRecord};
