//! Records written with the latest schema decode through apache-avro's
//! schema-aware deserializer (no `Value` tree). If a wire struct's serde name ever
//! stops matching its Avro record name, that path fails and decoding silently
//! falls back to the slow one: this test makes that loud.

#![allow(clippy::unwrap_used, clippy::panic, reason = "test code fails loudly")]

mod fixtures;

use apache_avro::reader::datum::GenericDatumReader;
use ghost_schema::{Contract, HEADER_LEN, encode, registry};

fn fast<T: Contract>(value: &T) {
    let bytes = encode(value).unwrap();
    let latest = registry().unwrap().latest(T::SUBJECT).unwrap();
    let reader = GenericDatumReader::builder(&latest.schema).build().unwrap();
    let mut body = &bytes[HEADER_LEN..];
    let decoded: T = reader.read_deser(&mut body).unwrap_or_else(|e| {
        panic!(
            "{} takes the slow path: {}",
            T::SUBJECT,
            &e.to_string()[..120]
        )
    });
    assert!(body.is_empty());
    assert_eq!(encode(&decoded).unwrap(), bytes);
}

#[test]
fn every_record_type_decodes_on_the_fast_path() {
    fast(&fixtures::capture());
    fast(&fixtures::empty_capture());
    fast(&fixtures::mode_change(None));
    fast(&fixtures::mode_change(Some("svc")));
    fast(&fixtures::library_upsert());
    fast(&fixtures::library_delete());
}
