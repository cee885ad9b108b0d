//! Every record type survives encode → decode unchanged, and the bytes carry the
//! single-object header of the latest schema version.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "clippy.toml allows these in #[test] fns only; helpers here are test code too"
)]

mod fixtures;

use ghost_schema::{
    CaptureRecord, Contract, HEADER_LEN, LibraryEntryRecord, MAGIC, ModeChangeRecord, ModeRecord,
    SchemaId, Subject, decode, encode, registry, schema_id,
};

fn round_trip<T: Contract + PartialEq + std::fmt::Debug>(value: &T) -> Vec<u8> {
    let bytes = encode(value).unwrap();
    let back: T = decode(&bytes).unwrap();
    assert_eq!(&back, value);
    bytes
}

#[test]
fn capture_round_trips_with_binary_bodies_and_non_utf8_headers() {
    let bytes = round_trip(&fixtures::capture());
    assert_eq!(bytes[..2], MAGIC);
    let latest = registry().unwrap().latest(Subject::Capture).unwrap();
    assert_eq!(bytes[2..HEADER_LEN], latest.fingerprint.to_le_bytes());
}

#[test]
fn capture_with_everything_empty_round_trips() {
    round_trip(&fixtures::empty_capture());
}

#[test]
fn capture_with_extreme_numbers_round_trips() {
    let capture = CaptureRecord {
        status: i32::MIN,
        started_at_us: i64::MIN,
        duration_us: i64::MAX,
        ..fixtures::capture()
    };
    round_trip(&capture);
}

#[test]
fn mode_change_round_trips_global_and_per_service() {
    round_trip(&fixtures::mode_change(None));
    round_trip(&fixtures::mode_change(Some("payments")));
}

#[test]
fn every_mode_round_trips() {
    for mode in [ModeRecord::Learn, ModeRecord::Mock, ModeRecord::Passthrough] {
        let change = ModeChangeRecord {
            mode,
            barrier: Vec::new(),
            ..fixtures::mode_change(None)
        };
        round_trip(&change);
    }
}

#[test]
fn library_entry_round_trips_upsert_and_delete() {
    round_trip(&fixtures::library_upsert());
    round_trip(&fixtures::library_delete());
}

#[test]
fn library_entry_round_trips_with_only_one_side_set() {
    let request_only = LibraryEntryRecord {
        response: None,
        ..fixtures::library_upsert()
    };
    let response_only = LibraryEntryRecord {
        request: None,
        ..fixtures::library_upsert()
    };
    round_trip(&request_only);
    round_trip(&response_only);
}

#[test]
fn large_body_round_trips() {
    let capture = CaptureRecord {
        response_body: fixtures::all_bytes().repeat(4096),
        ..fixtures::capture()
    };
    round_trip(&capture);
}

#[test]
fn schema_id_names_subject_and_latest_version() {
    let cases = [
        (
            encode(&fixtures::capture()).unwrap(),
            "dev.ghost.Capture/v4",
        ),
        (
            encode(&fixtures::mode_change(None)).unwrap(),
            "dev.ghost.ModeChange/v2",
        ),
        (
            encode(&fixtures::library_delete()).unwrap(),
            "dev.ghost.LibraryEntry/v2",
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(schema_id(&bytes).unwrap().to_string(), expected);
    }
    assert_eq!(
        schema_id(&encode(&fixtures::capture()).unwrap()).unwrap(),
        SchemaId {
            subject: CaptureRecord::SUBJECT,
            version: 4
        }
    );
}

#[test]
fn encoding_is_deterministic() {
    assert_eq!(
        encode(&fixtures::capture()).unwrap(),
        encode(&fixtures::capture()).unwrap()
    );
}

/// Our framing is the standard one: apache-avro's own single-object reader accepts it.
#[test]
fn apache_avro_single_object_reader_reads_our_bytes() {
    use apache_avro::GenericSingleObjectReader;

    let latest = registry().unwrap().latest(Subject::Capture).unwrap();
    let bytes = encode(&fixtures::capture()).unwrap();
    let reader = GenericSingleObjectReader::builder()
        .schema(latest.schema.clone())
        .build()
        .unwrap();
    let value = reader.read_value(&mut bytes.as_slice()).unwrap();
    let back: CaptureRecord = apache_avro::from_value(&value).unwrap();
    assert_eq!(back, fixtures::capture());
}
