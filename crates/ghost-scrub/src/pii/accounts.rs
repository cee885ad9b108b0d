//! Account-number checksums: IBAN (ISO 13616, mod-97) and Bitcoin addresses
//! (base58check for legacy and P2SH, bech32/bech32m for segwit and taproot).
//!
//! Both are cheap to verify and make random look-alikes (hashes, ids, wrong
//! check digits) fail with near certainty, which is what earns these categories
//! the 0.99 recall bar without losing precision.

use sha2::{Digest, Sha256};

/// IBAN length per country (ISO 13616 registry). Countries missing here are not
/// detected, which costs recall only for rare issuers.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// Whether `code` (two letters, either case) is a country with IBANs: a cheap
/// first filter before any candidate is copied and checked.
pub(crate) fn iban_country(code: &[u8]) -> bool {
    let [a, b] = code else { return false };
    let code = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
    IBAN_LENGTHS.iter().any(|(c, _)| c.as_bytes() == code)
}

/// Country length plus the ISO 7064 mod-97 check on the compact (space-free) form.
pub(crate) fn iban_ok(compact: &str) -> bool {
    let b = compact.as_bytes();
    let Some(country) = compact.get(..2) else {
        return false;
    };
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country) else {
        return false;
    };
    if b.len() != len || !b.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let mut rem: u32 = 0;
    for &c in b[4..].iter().chain(&b[..4]) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

const B58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Legacy (P2PKH `1…`) and script (P2SH `3…`) addresses: base58 decode to 25 bytes,
/// version 0x00 or 0x05, last four bytes = first four of SHA-256(SHA-256(payload)).
pub(crate) fn base58check_address_ok(s: &str) -> bool {
    let mut out: Vec<u8> = Vec::with_capacity(25);
    for c in s.bytes() {
        let Some(v) = B58.iter().position(|&x| x == c) else {
            return false;
        };
        let mut carry = v as u32;
        for byte in out.iter_mut().rev() {
            carry += u32::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            out.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.bytes().take_while(|&c| c == b'1').count();
    let mut bytes = vec![0u8; zeros];
    bytes.extend_from_slice(&out);
    if bytes.len() != 25 || !matches!(bytes[0], 0x00 | 0x05) {
        return false;
    }
    let first = Sha256::digest(&bytes[..21]);
    let second = Sha256::digest(first);
    second[..4] == bytes[21..]
}

const BECH32: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bech32_polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// Segwit `bc1…` addresses: BIP-173 checksum for witness v0, BIP-350 (bech32m) for
/// v1+ (taproot), and the program lengths those versions allow.
pub(crate) fn bech32_address_ok(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if lower != s && s.to_ascii_uppercase() != s {
        return false;
    }
    let Some(data_part) = lower.strip_prefix("bc1") else {
        return false;
    };
    let mut data = Vec::with_capacity(data_part.len());
    for c in data_part.bytes() {
        match BECH32.iter().position(|&x| x == c) {
            Some(v) => data.push(v as u8),
            None => return false,
        }
    }
    if data.len() < 7 {
        return false;
    }
    let hrp = b"bc";
    let expanded = hrp
        .iter()
        .map(|c| c >> 5)
        .chain([0])
        .chain(hrp.iter().map(|c| c & 31));
    let chk = bech32_polymod(expanded.chain(data.iter().copied()));
    let version = data[0];
    let program_chars = data.len() - 7;
    match version {
        0 => chk == 1 && (program_chars == 32 || program_chars == 52),
        1..=16 => chk == 0x2bc8_30a3 && (7..=104).contains(&program_chars),
        _ => false,
    }
}
