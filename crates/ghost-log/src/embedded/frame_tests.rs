//! Tests of the pure frame codec, including hostile and truncated input.

use super::*;

const MAX: usize = 1024;

fn sample() -> Record {
    Record {
        key: Some(Bytes::from_static(b"key")),
        value: Some(Bytes::from_static(b"value")),
        headers: vec![Header {
            name: "traceparent".into(),
            value: Bytes::from_static(b"00-abc"),
        }],
        timestamp_ms: 1_700_000_000_123,
    }
}

fn encoded(offset: u64, record: &Record) -> Vec<u8> {
    let mut out = Vec::new();
    encode(offset, record, &mut out);
    out
}

#[test]
fn round_trips_full_and_empty_records() {
    let tombstone = Record {
        key: Some(Bytes::from_static(b"k")),
        value: None,
        headers: vec![],
        timestamp_ms: -5,
    };
    for (offset, rec) in [(7, sample()), (u64::MAX, Record::default()), (3, tombstone)] {
        let buf = encoded(offset, &rec);
        assert_eq!(buf.len(), HEADER_LEN + body_len(&rec));
        let (got, len) = decode(&buf, 4, MAX).unwrap();
        assert_eq!(len, buf.len());
        assert_eq!(got.partition, 4);
        assert_eq!(got.offset, offset);
        assert_eq!(got.key, rec.key);
        assert_eq!(got.value, rec.value);
        assert_eq!(got.headers, rec.headers);
        assert_eq!(got.timestamp_ms, rec.timestamp_ms);
    }
}

#[test]
fn decodes_only_the_first_of_consecutive_frames() {
    let mut buf = encoded(1, &sample());
    let first = buf.len();
    encode(2, &Record::default(), &mut buf);
    let (a, len) = decode(&buf, 0, MAX).unwrap();
    assert_eq!((a.offset, len), (1, first));
    let (b, _) = decode(&buf[first..], 0, MAX).unwrap();
    assert_eq!(b.offset, 2);
}

#[test]
fn every_truncation_is_incomplete() {
    let buf = encoded(9, &sample());
    for cut in 0..buf.len() {
        match decode(&buf[..cut], 0, MAX) {
            Err(FrameError::Incomplete { needed }) => assert!(needed > cut),
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn any_flipped_bit_is_rejected() {
    let buf = encoded(9, &sample());
    for i in 0..buf.len() {
        for bit in 0..8 {
            let mut bad = buf.clone();
            bad[i] ^= 1 << bit;
            assert!(decode(&bad, 0, MAX).is_err(), "flip byte {i} bit {bit}");
        }
    }
}

#[test]
fn absurd_length_is_invalid_not_incomplete() {
    let mut buf = vec![MAGIC, 0, 0, 0, 0];
    buf.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(decode(&buf, 0, MAX), Err(FrameError::Invalid(_))));
    assert!(matches!(frame_len(&buf, MAX), Err(FrameError::Invalid(_))));
}

#[test]
fn zero_fill_is_invalid() {
    assert!(matches!(
        decode(&[0; 64], 0, MAX),
        Err(FrameError::Invalid(_))
    ));
}

/// Builds a frame around an arbitrary body with a correct CRC, so structural checks
/// (not the CRC) have to catch the problem.
fn with_valid_crc(body: &[u8]) -> Vec<u8> {
    let mut out = vec![MAGIC, 0, 0, 0, 0];
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    let crc = crc32fast::hash(&out[5..]);
    out[1..5].copy_from_slice(&crc.to_le_bytes());
    out
}

#[test]
fn crc_valid_but_malformed_bodies_are_invalid() {
    let mut fixed = Vec::new();
    fixed.extend_from_slice(&1u64.to_le_bytes());
    fixed.extend_from_slice(&2i64.to_le_bytes());
    let cases: Vec<Vec<u8>> = vec![
        // body too short for offset + timestamp
        vec![1, 2, 3],
        // key length pointing past the end
        [fixed.clone(), vec![1], 1000u32.to_le_bytes().to_vec()].concat(),
        // bad presence flag
        [fixed.clone(), vec![7]].concat(),
        // huge header count must not allocate
        [fixed.clone(), vec![0, 0], u32::MAX.to_le_bytes().to_vec()].concat(),
        // trailing garbage
        [
            fixed.clone(),
            vec![0, 0],
            0u32.to_le_bytes().to_vec(),
            vec![9],
        ]
        .concat(),
        // header name not UTF-8
        [
            fixed.clone(),
            vec![0, 0],
            1u32.to_le_bytes().to_vec(),
            1u32.to_le_bytes().to_vec(),
            vec![0xff],
            0u32.to_le_bytes().to_vec(),
        ]
        .concat(),
    ];
    for (i, body) in cases.iter().enumerate() {
        let frame = with_valid_crc(body);
        assert!(
            matches!(decode(&frame, 0, MAX), Err(FrameError::Invalid(_))),
            "case {i}"
        );
    }
}
