//! Key → partition, identical to Kafka's default partitioner (murmur2, positive).

/// Kafka's murmur2 (seed 0x9747b28c), as in the Java client's `Utils.murmur2`.
pub fn murmur2(data: &[u8]) -> u32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

/// The partition Kafka's default partitioner picks for `key` among `partitions`.
pub fn partition_for_key(key: Option<&[u8]>, partitions: u32) -> u32 {
    match key {
        Some(k) if partitions > 0 => (murmur2(k) & 0x7fff_ffff) % partitions,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_kafka_reference_values() {
        // Values from the Kafka Java client's UtilsTest.testMurmur2.
        assert_eq!(murmur2(b"21") as i32, -973_932_308);
        assert_eq!(murmur2(b"foobar") as i32, -790_332_482);
        assert_eq!(murmur2(b"a-little-bit-long-string") as i32, -985_981_536);
        assert_eq!(
            murmur2(b"a-little-bit-longer-string") as i32,
            -1_486_304_829
        );
        assert_eq!(
            murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") as i32,
            -58_897_971
        );
        assert_eq!(murmur2(b"abc") as i32, 479_470_107);
    }

    #[test]
    fn no_key_goes_to_partition_zero() {
        assert_eq!(partition_for_key(None, 8), 0);
        assert!(partition_for_key(Some(b"svc"), 8) < 8);
    }
}
