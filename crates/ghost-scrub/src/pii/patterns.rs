//! The pattern table: one regex per shape, each paired with the check that decides
//! whether a regex hit is really that category.
//!
//! Regexes are deliberately permissive about length and strict about alphabet; the
//! checks then enforce boundaries (a card inside a longer digit run is not a card),
//! checksums and context.

use std::ops::Range;

use super::Category;
use super::checks;
use super::numeric::{card, iban, ipv4, phone_e164, phone_us, ssn};

/// What a check returns: the category (a phone regex may reclassify) and the exact
/// byte range to replace (Bearer/Basic keep their scheme word).
pub(crate) type Hit = Option<(Category, Range<usize>)>;

/// One regex and the validator that confirms its matches.
pub(crate) struct Pattern {
    pub(crate) regex: &'static str,
    pub(crate) check: fn(&str, Range<usize>) -> Hit,
}

/// Every pattern, in the order findings are collected.
pub(crate) const PATTERNS: &[Pattern] = &[
    Pattern {
        regex: r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
        check: jwt,
    },
    Pattern {
        regex: r"(?i)bearer[ \t]+[A-Za-z0-9\-._~+/]{16,}=*",
        check: bearer,
    },
    Pattern {
        regex: r"(?i)basic[ \t]+[A-Za-z0-9+/]{6,}={0,2}",
        check: basic,
    },
    Pattern {
        regex: r"(?:sk|pk|rk)_(?:live|test)_[0-9A-Za-z]{10,247}",
        check: stripe,
    },
    Pattern {
        regex: r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
        check: openai,
    },
    Pattern {
        regex: r"sk-ant-[a-z]{2,8}[0-9]{2}-[A-Za-z0-9_-]{20,}",
        check: anthropic,
    },
    Pattern {
        regex: r"gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}",
        check: github,
    },
    Pattern {
        regex: r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}",
        check: aws,
    },
    Pattern {
        regex: r"[0-9](?:[ -]?[0-9]){12,18}",
        check: card,
    },
    Pattern {
        regex: r"[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4}",
        check: ssn,
    },
    Pattern {
        regex: r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}",
        check: email,
    },
    Pattern {
        regex: r"(?:\+?1[ .-]?)?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ .-])[2-9][0-9]{2}[ .-][0-9]{4}",
        check: phone_us,
    },
    Pattern {
        regex: r"\+[1-9][0-9]{6,14}|\+[1-9][0-9]{0,3}(?:[ -][0-9]{1,5}){2,6}",
        check: phone_e164,
    },
    Pattern {
        // The leading non-word character stands in for a word boundary: without it
        // every `1` or `3` inside hex and base62 ids starts a 25-character scan,
        // which made this the slowest pattern by 5x.
        regex: r"(?:^|[^A-Za-z0-9_])(?:[13][a-km-zA-HJ-NP-Z1-9]{25,34}|bc1[ac-hj-np-z02-9]{11,87}|BC1[AC-HJ-NP-Z02-9]{11,87})",
        check: bitcoin,
    },
    Pattern {
        regex: r"0[xX][0-9a-fA-F]{40}",
        check: ethereum,
    },
    Pattern {
        regex: r"[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?",
        check: iban,
    },
    Pattern {
        regex: r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}",
        check: ipv4,
    },
];

pub(super) fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// No word character touches either end: `xAKIA…` or `…1234x` are part of something else.
pub(super) fn bounded(t: &str, r: &Range<usize>) -> bool {
    let before = t[..r.start].chars().next_back();
    let after = t[r.end..].chars().next();
    !before.is_some_and(is_word) && !after.is_some_and(is_word)
}

/// Numbers that continue through a dot (`1.2.3.4.5`, `10.536-22-1234`) belong to a
/// longer dotted value such as a version or an OID.
fn dotted_edge(t: &str, r: &Range<usize>) -> bool {
    let b = t.as_bytes();
    let next_dot_digit =
        b.get(r.end) == Some(&b'.') && b.get(r.end + 1).is_some_and(u8::is_ascii_digit);
    let prev_dot_digit = r.start >= 2 && b[r.start - 1] == b'.' && b[r.start - 2].is_ascii_digit();
    next_dot_digit || prev_dot_digit
}

pub(super) fn numeric_ok(t: &str, r: &Range<usize>) -> bool {
    bounded(t, r) && !dotted_edge(t, r)
}

pub(super) fn accept(c: Category, t: &str, r: Range<usize>, ok: bool) -> Hit {
    (ok && bounded(t, &r)).then_some((c, r))
}

fn jwt(t: &str, r: Range<usize>) -> Hit {
    let header = t[r.clone()].split('.').next().unwrap_or_default();
    let ok = checks::base64_decode(header).is_some_and(|h| {
        h.first() == Some(&b'{')
            && (h.windows(5).any(|w| w == b"\"alg\"") || h.windows(5).any(|w| w == b"\"typ\""))
    });
    accept(Category::Jwt, t, r, ok)
}

/// Start of the credential after `Bearer `/`Basic ` (the scheme stays readable).
fn after_scheme(t: &str, r: &Range<usize>) -> usize {
    let s = &t[r.clone()];
    let scheme_end = s.find([' ', '\t']).unwrap_or(0);
    let ws = s[scheme_end..].len() - s[scheme_end..].trim_start().len();
    r.start + scheme_end + ws
}

/// The scheme word must start a word (`xbearer` is not a scheme). Checked here
/// rather than with `\b` in the regex: a Unicode word boundary makes the regex
/// engine leave its fast DFA on non-ASCII text, which costs every string.
fn scheme_starts_word(t: &str, r: &Range<usize>) -> bool {
    !t[..r.start].chars().next_back().is_some_and(is_word)
}

fn bearer(t: &str, r: Range<usize>) -> Hit {
    if !scheme_starts_word(t, &r) {
        return None;
    }
    let start = after_scheme(t, &r);
    // `.` is a token character, but a trailing one is almost always the end of a
    // sentence ("…use Bearer abc123.").
    let end = start + t[start..r.end].trim_end_matches('.').len();
    accept(Category::Bearer, t, start..end, end - start >= 16)
}

/// `Basic` is also an English word; only a value that decodes to `user:password` counts.
fn basic(t: &str, r: Range<usize>) -> Hit {
    if !scheme_starts_word(t, &r) {
        return None;
    }
    let start = after_scheme(t, &r);
    let ok = checks::base64_decode(&t[start..r.end]).is_some_and(|d| {
        d.contains(&b':') && d.iter().all(|&b| (0x20..0x7f).contains(&b) || b >= 0x80)
    });
    accept(Category::Basic, t, start..r.end, ok)
}

fn stripe(t: &str, r: Range<usize>) -> Hit {
    accept(Category::StripeKey, t, r, true)
}

/// `sk-` starts plenty of slugs; real keys are random base62 with digits and capitals.
fn openai(t: &str, r: Range<usize>) -> Hit {
    let body = &t[r.start + 3..r.end];
    let ok =
        body.bytes().any(|b| b.is_ascii_digit()) && body.bytes().any(|b| b.is_ascii_uppercase());
    accept(Category::OpenAiKey, t, r, ok)
}

fn anthropic(t: &str, r: Range<usize>) -> Hit {
    accept(Category::AnthropicKey, t, r, true)
}

fn github(t: &str, r: Range<usize>) -> Hit {
    accept(Category::GithubToken, t, r, true)
}

fn aws(t: &str, r: Range<usize>) -> Hit {
    accept(Category::AwsAccessKeyId, t, r, true)
}
fn email(t: &str, r: Range<usize>) -> Hit {
    // The local-part class includes '.', so a sentence like "mail .bob@x.io" would
    // otherwise start the finding on the dot.
    let lead = t[r.clone()].bytes().take_while(|&b| b == b'.').count();
    accept(Category::Email, t, r.start + lead..r.end, true)
}

fn bitcoin(t: &str, r: Range<usize>) -> Hit {
    // Drop the boundary character the regex consumed (absent at the text start).
    let lead = match t[r.clone()].chars().next() {
        Some('1' | '3' | 'b' | 'B') => 0,
        Some(c) => c.len_utf8(),
        None => return None,
    };
    let r = r.start + lead..r.end;
    let s = &t[r.clone()];
    let ok = if s.starts_with("bc1") || s.starts_with("BC1") {
        checks::bech32_address_ok(s)
    } else {
        checks::base58check_address_ok(s)
    };
    accept(Category::Bitcoin, t, r, ok)
}

fn ethereum(t: &str, r: Range<usize>) -> Hit {
    accept(Category::Ethereum, t, r, true)
}
