//! Checks for the number-shaped categories: cards, SSNs, phones, IBANs, IPv4.
//!
//! These are where look-alikes live (order numbers, timestamps, versions), so each
//! check combines the checksum or numbering-plan rule with the boundary rules and,
//! where a greedy regex may run on into a neighbouring number, tries shorter
//! candidates at separator positions.

use std::ops::Range;

use super::Category;
use super::checks;
use super::patterns::{Hit, bounded, numeric_ok};

/// The regex is greedy, so a card followed by a year (`4111 1111 1111 1111 2027`)
/// first arrives as one run; shorter prefixes ending at a separator are tried too.
pub(super) fn card(t: &str, r: Range<usize>) -> Hit {
    let mut end = r.end;
    loop {
        let cand = r.start..end;
        let d = checks::digits(&t[cand.clone()]);
        if d.len() < 13 {
            return None;
        }
        if numeric_ok(t, &cand)
            && !t[..cand.start].ends_with('+')
            && card_grouping_ok(&t[cand.clone()])
            && checks::card_network_ok(&d)
            && checks::luhn_ok(&d)
        {
            return Some((Category::Card, cand));
        }
        let s = &t[r.start..end];
        let cut = s.rfind([' ', '-'])?;
        end = r.start + cut;
    }
}

/// Printed cards group as 4-4-4-4(-3) or 4-6-5 / 4-6-4; any other grouping is a
/// run of unrelated numbers (`…6445 404`), not a card. One card never mixes
/// spaces and dashes.
fn card_grouping_ok(s: &str) -> bool {
    if s.contains(' ') && s.contains('-') {
        return false;
    }
    let groups: Vec<usize> = s.split([' ', '-']).map(str::len).collect();
    match groups.as_slice() {
        [_] => true,
        [4, 6, 4 | 5] => true,
        [init @ .., last] => init.iter().all(|&g| g == 4) && (1..=4).contains(last),
        [] => false,
    }
}

pub(super) fn ssn(t: &str, r: Range<usize>) -> Hit {
    let ok = numeric_ok(t, &r) && checks::ssn_ok(&checks::digits(&t[r.clone()]));
    ok.then_some((Category::Ssn, r))
}

pub(super) fn phone_us(t: &str, r: Range<usize>) -> Hit {
    numeric_ok(t, &r).then_some((Category::PhoneUs, r))
}

/// International numbers; `+1` numbers that satisfy NANP rules are reported as US.
pub(super) fn phone_e164(t: &str, r: Range<usize>) -> Hit {
    let mut end = r.end;
    let mut d = checks::digits(&t[r.start..end]);
    // Grouped numbers run on into whatever number follows ("+1 415 555 2671 404").
    // NANP numbers have exactly 11 digits and almost no plan exceeds 13, so
    // trailing groups beyond that are dropped while a plausible number remains.
    let limit = if d.first() == Some(&1) { 11 } else { 13 };
    while d.len() > limit {
        let Some(cut) = t[r.start..end].rfind([' ', '-']) else {
            break;
        };
        let shorter = checks::digits(&t[r.start..r.start + cut]);
        if shorter.len() < 8 {
            break;
        }
        end = r.start + cut;
        d = shorter;
    }
    let r = r.start..end;
    if !(8..=15).contains(&d.len()) || !numeric_ok(t, &r) {
        return None;
    }
    let nanp = d.len() == 11 && d[0] == 1 && d[1] >= 2 && d[4] >= 2;
    let category = if nanp {
        Category::PhoneUs
    } else {
        Category::PhoneE164
    };
    Some((category, r))
}

/// Grouped IBANs may swallow a following capitalised word; drop trailing groups
/// until the checksum holds.
pub(super) fn iban(t: &str, r: Range<usize>) -> Hit {
    // Lower-case candidates are common in ordinary text: reject unknown
    // countries before copying anything.
    if !checks::iban_country(t.as_bytes().get(r.start..r.start + 2)?) {
        return None;
    }
    let mut end = r.end;
    loop {
        let cand = r.start..end;
        let compact: String = t[cand.clone()].chars().filter(|c| *c != ' ').collect();
        // Either case is an IBAN (people type them in lower case), but not a
        // mix: mixed-case runs are ids and tokens, and mod-97 alone would let
        // one in 97 of those through.
        let upper = compact.bytes().all(|b| !b.is_ascii_lowercase());
        let lower = compact.bytes().all(|b| !b.is_ascii_uppercase());
        if bounded(t, &cand) && (upper || lower) && checks::iban_ok(&compact.to_ascii_uppercase()) {
            return Some((Category::Iban, cand));
        }
        let cut = t[r.start..end].rfind(' ')?;
        end = r.start + cut;
    }
}

/// Words that, right before a dotted quad, make it a version rather than an address.
/// (`v1.2.3.4` needs no entry: the letter touching the digits already fails the
/// boundary check.)
const VERSION_WORDS: &[&str] = &["version", "ver", "release", "build", "firmware"];

pub(super) fn ipv4(t: &str, r: Range<usize>) -> Hit {
    if !numeric_ok(t, &r) || !checks::ipv4_ok(&t[r.clone()]) {
        return None;
    }
    let window_start = t.floor_char_boundary(r.start.saturating_sub(16));
    let before = t[window_start..r.start].trim_end_matches([' ', ':', '=', '"', '\'']);
    let lower = before.to_ascii_lowercase();
    let versionish = VERSION_WORDS.iter().any(|w| {
        lower.ends_with(w)
            && !lower[..lower.len() - w.len()].ends_with(|c: char| c.is_ascii_alphabetic())
    });
    (!versionish).then_some((Category::Ipv4, r))
}
