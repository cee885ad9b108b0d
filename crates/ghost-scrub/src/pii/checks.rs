//! Validators that turn a regex shape into a confident finding.
//!
//! The regexes only say "this looks like X"; these checks are what keep order
//! numbers, timestamps and hashes out of the placeholders. Everything works on
//! ASCII bytes and allocates at most a few dozen bytes per candidate.

pub(crate) use super::accounts::{
    base58check_address_ok, bech32_address_ok, iban_country, iban_ok,
};

/// The ASCII digits of `s`, ignoring the space and dash separators cards use.
pub(crate) fn digits(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

/// The Luhn (mod 10) checksum every card network uses.
pub(crate) fn luhn_ok(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 { y - 9 } else { y }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether the digits carry the issuer prefix and length of Visa, Mastercard,
/// Amex, Discover or Diners. A Luhn pass alone is one in ten for random numbers,
/// so the prefix table is what makes card precision usable.
pub(crate) fn card_network_ok(d: &[u8]) -> bool {
    let len = d.len();
    let prefix = |n: usize| -> u32 { d.iter().take(n).fold(0u32, |a, &x| a * 10 + u32::from(x)) };
    if len < 4 {
        return false;
    }
    let p1 = prefix(1);
    let p2 = prefix(2);
    let p3 = prefix(3);
    let p4 = prefix(4);
    let p6 = if len >= 6 { prefix(6) } else { 0 };
    let visa = p1 == 4 && matches!(len, 13 | 16 | 19);
    let mastercard = ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16;
    let amex = matches!(p2, 34 | 37) && len == 15;
    let discover =
        (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622_126..=622_925).contains(&p6))
            && (16..=19).contains(&len);
    let diners =
        ((300..=305).contains(&p3) || matches!(p2, 36 | 38 | 39)) && (14..=19).contains(&len);
    visa || mastercard || amex || discover || diners
}

/// US SSN rules: area not 000, 666 or 9xx; group not 00; serial not 0000.
pub(crate) fn ssn_ok(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let area = u32::from(d[0]) * 100 + u32::from(d[1]) * 10 + u32::from(d[2]);
    let group = u32::from(d[3]) * 10 + u32::from(d[4]);
    let serial = d[5..].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

/// Dotted quad with every octet ≤ 255 and no leading zeros (`01.2.3.4` is more
/// often a version or a date than an address).
pub(crate) fn ipv4_ok(s: &str) -> bool {
    let mut n = 0;
    for part in s.split('.') {
        n += 1;
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part.starts_with('0')) {
            return false;
        }
        match part.parse::<u16>() {
            Ok(v) if v <= 255 => {}
            _ => return false,
        }
    }
    n == 4
}

/// Standard or URL-safe base64, padding optional; `None` on any other byte.
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
