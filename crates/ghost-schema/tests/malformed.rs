//! Hostile and damaged input: every failure is a specific `SchemaError`, never a panic.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "clippy.toml allows these in #[test] fns only; helpers here are test code too"
)]

mod fixtures;

use ghost_schema::{
    CaptureRecord, HEADER_LEN, LibraryEntryRecord, ModeChangeRecord, SchemaError, SchemaId,
    Subject, decode, encode, registry, schema_id,
};

fn capture_bytes() -> Vec<u8> {
    encode(&fixtures::capture()).unwrap()
}

fn header_of(subject: Subject) -> Vec<u8> {
    let latest = registry().unwrap().latest(subject).unwrap();
    let mut bytes = vec![0xC3, 0x01];
    bytes.extend_from_slice(&latest.fingerprint.to_le_bytes());
    bytes
}

#[test]
fn empty_input_is_truncated() {
    assert_eq!(decode::<CaptureRecord>(&[]), Err(SchemaError::Truncated));
    assert_eq!(schema_id(&[]), Err(SchemaError::Truncated));
}

#[test]
fn wrong_magic_is_bad_magic() {
    let mut bytes = capture_bytes();
    bytes[0] = b'{';
    assert_eq!(decode::<CaptureRecord>(&bytes), Err(SchemaError::BadMagic));
    bytes[0] = 0xC3;
    bytes[1] = 0x02;
    assert_eq!(decode::<CaptureRecord>(&bytes), Err(SchemaError::BadMagic));
    // One byte is enough to see that it is not ours.
    assert_eq!(decode::<CaptureRecord>(b"{"), Err(SchemaError::BadMagic));
}

#[test]
fn truncated_header_is_truncated() {
    let bytes = capture_bytes();
    for len in 1..HEADER_LEN {
        assert_eq!(
            decode::<CaptureRecord>(&bytes[..len]),
            Err(SchemaError::Truncated),
            "prefix of {len} bytes"
        );
    }
}

#[test]
fn unknown_fingerprint_is_reported_with_its_value() {
    let mut bytes = capture_bytes();
    bytes[2..HEADER_LEN].copy_from_slice(&0x0123_4567_89ab_cdef_u64.to_le_bytes());
    let err = decode::<CaptureRecord>(&bytes).unwrap_err();
    assert_eq!(err, SchemaError::UnknownFingerprint(0x0123_4567_89ab_cdef));
    assert!(err.to_string().contains("0x0123456789abcdef"), "{err}");
    assert!(err.to_string().contains("does not know"), "{err}");
    assert_eq!(
        schema_id(&bytes),
        Err(SchemaError::UnknownFingerprint(0x0123_4567_89ab_cdef))
    );
}

#[test]
fn truncated_datum_is_truncated() {
    let bytes = capture_bytes();
    assert_eq!(
        decode::<CaptureRecord>(&bytes[..bytes.len() - 1]),
        Err(SchemaError::Truncated)
    );
    // A header with no body at all: the first string length is missing.
    assert_eq!(
        decode::<CaptureRecord>(&bytes[..HEADER_LEN]),
        Err(SchemaError::Truncated)
    );
}

#[test]
fn garbage_datum_is_a_decode_error() {
    // 0x03 is the zig-zag varint -2: a negative string length for `id`.
    let mut bytes = header_of(Subject::Capture);
    bytes.extend_from_slice(&[0x03; 64]);
    let err = decode::<CaptureRecord>(&bytes).unwrap_err();
    assert!(matches!(err, SchemaError::Decode(_)), "{err:?}");

    // An enum index outside Mode's three symbols.
    let mut bytes = header_of(Subject::ModeChange);
    bytes.extend_from_slice(&[0x00, 0x00, 0x0A, 0x00, 0x00, 0x00]);
    let err = decode::<ModeChangeRecord>(&bytes).unwrap_err();
    assert!(matches!(err, SchemaError::Decode(_)), "{err:?}");

    // A union branch index outside [null, RequestSpec].
    let mut bytes = header_of(Subject::LibraryEntry);
    bytes.extend_from_slice(&[0x00, 0x00, 0x00, 0x00, 0x08]);
    let err = decode::<LibraryEntryRecord>(&bytes).unwrap_err();
    assert!(matches!(err, SchemaError::Decode(_)), "{err:?}");
}

#[test]
fn trailing_bytes_are_a_decode_error() {
    let mut bytes = capture_bytes();
    bytes.push(0);
    let err = decode::<CaptureRecord>(&bytes).unwrap_err();
    assert!(
        matches!(&err, SchemaError::Decode(m) if m.contains("1 unexpected bytes")),
        "{err}"
    );
}

#[test]
fn capture_decoded_as_mode_change_is_wrong_subject() {
    let err = decode::<ModeChangeRecord>(&capture_bytes()).unwrap_err();
    assert_eq!(
        err,
        SchemaError::WrongSubject {
            expected: Subject::ModeChange,
            found: SchemaId {
                subject: Subject::Capture,
                version: 4
            },
        }
    );
    assert_eq!(
        err.to_string(),
        "record is a dev.ghost.Capture/v4, not the expected dev.ghost.ModeChange"
    );
}

#[test]
fn error_messages_stay_short_even_for_huge_records() {
    let mut capture = fixtures::capture();
    capture.response_body = vec![b'x'; 1 << 20];
    let bytes = encode(&capture).unwrap();
    let mut damaged = bytes.clone();
    damaged.truncate(bytes.len() - 3);
    damaged.extend_from_slice(&[0xFF; 3]);
    if let Err(err) = decode::<CaptureRecord>(&damaged) {
        assert!(err.to_string().len() < 400, "{err}");
    }
}

/// Small deterministic PRNG so the fuzz loop needs no dependency and reproduces exactly.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn decode_any(bytes: &[u8]) {
    // Only the absence of panics matters here; the result may be Ok or Err.
    let _ = decode::<CaptureRecord>(bytes);
    let _ = decode::<ModeChangeRecord>(bytes);
    let _ = decode::<LibraryEntryRecord>(bytes);
    let _ = schema_id(bytes);
}

#[test]
fn every_prefix_decodes_without_panicking() {
    let samples = [
        encode(&fixtures::capture()).unwrap(),
        encode(&fixtures::mode_change(Some("svc"))).unwrap(),
        encode(&fixtures::library_upsert()).unwrap(),
        ghost_schema::encode_with_version(&fixtures::capture(), 1).unwrap(),
    ];
    for bytes in &samples {
        for len in 0..bytes.len() {
            decode_any(&bytes[..len]);
        }
    }
    // A cut record is always reported as cut, never read as a shorter record.
    for (index, bytes) in samples.iter().enumerate() {
        for len in 0..bytes.len() {
            let err = schema_id(&bytes[..len])
                .and_then(|id| match id.subject {
                    Subject::Capture => decode::<CaptureRecord>(&bytes[..len]).map(drop),
                    Subject::ModeChange => decode::<ModeChangeRecord>(&bytes[..len]).map(drop),
                    Subject::LibraryEntry => decode::<LibraryEntryRecord>(&bytes[..len]).map(drop),
                    Subject::ScrubbedCapture => {
                        decode::<ghost_schema::ScrubbedCaptureRecord>(&bytes[..len]).map(drop)
                    }
                    Subject::ScrubConfig => {
                        decode::<ghost_schema::ScrubConfigRecord>(&bytes[..len]).map(drop)
                    }
                })
                .unwrap_err();
            assert_eq!(err, SchemaError::Truncated, "sample {index}, prefix {len}");
        }
    }
}

#[test]
fn random_byte_flips_decode_without_panicking() {
    let samples = [
        encode(&fixtures::capture()).unwrap(),
        encode(&fixtures::mode_change(None)).unwrap(),
        encode(&fixtures::library_upsert()).unwrap(),
        encode(&fixtures::library_delete()).unwrap(),
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for round in 0..4_000 {
        let mut bytes = samples[round % samples.len()].clone();
        // Mostly flip datum bytes: header flips only ever give BadMagic/UnknownFingerprint.
        for _ in 0..=rng.below(4) {
            let at = HEADER_LEN + rng.below(bytes.len() - HEADER_LEN);
            bytes[at] = rng.next() as u8;
        }
        if rng.below(8) == 0 {
            let at = rng.below(bytes.len());
            bytes[at] ^= 1 << rng.below(8);
        }
        decode_any(&bytes);
    }
}

#[test]
fn random_garbage_after_a_valid_header_decodes_without_panicking() {
    let mut rng = XorShift(42);
    for round in 0..2_000 {
        let subject = Subject::ALL[round % Subject::ALL.len()];
        let mut bytes = header_of(subject);
        for _ in 0..rng.below(96) {
            bytes.push(rng.next() as u8);
        }
        decode_any(&bytes);
    }
}
