//! Values that resemble PII and must come out of the scrubber unchanged. Each
//! kind is named so the report can say which look-alikes, if any, were eaten.

use super::encoders::{base58, iban};
use super::pii_values::{card_digits, format_card};
use super::rng::{BASE62, HEX, Rng};

pub const KINDS: &[&str] = &[
    "prefixed_id",
    "order_number",
    "iso_timestamp",
    "epoch_millis",
    "semver",
    "version_quad",
    "luhn_failing_card",
    "uuid",
    "git_sha",
    "sha256",
    "eth_tx_hash",
    "price",
    "short_phone",
    "invalid_ssn",
    "date",
    "bad_iban",
    "slug",
    "english_basic_bearer",
    "bad_base58",
    "zip_plus4",
    "isbn",
    "tracking",
];

/// A look-alike of the given kind, and the JSON key it would naturally sit under.
pub fn generate(rng: &mut Rng, kind: &str) -> (&'static str, String) {
    match kind {
        "prefixed_id" => {
            let p = *rng.pick(&["ord_", "cus_", "pi_", "ch_", "evt_", "req_", "sub_"]);
            ("id", format!("{p}{}", rng.chars_between(BASE62, 14, 24)))
        }
        "order_number" => (
            "order_number",
            format!("{}{}", rng.range(1, 9), rng.digits_between(5, 11)),
        ),
        "iso_timestamp" => (
            "created_at",
            format!(
                "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                rng.range(10, 30),
                rng.range(1, 12),
                rng.range(1, 28),
                rng.range(0, 23),
                rng.range(0, 59),
                rng.range(0, 59),
                rng.below(1000)
            ),
        ),
        "epoch_millis" => ("ts", format!("1{}", rng.digits(12))),
        "semver" => (
            "version",
            match rng.below(3) {
                0 => format!("{}.{}.{}", rng.below(20), rng.below(30), rng.below(100)),
                1 => format!(
                    "v{}.{}.{}-beta.{}",
                    rng.below(5),
                    rng.below(30),
                    rng.below(10),
                    rng.below(9)
                ),
                _ => format!(
                    "{}.{}.{}+build.{}",
                    rng.below(9),
                    rng.below(9),
                    rng.below(9),
                    rng.digits(4)
                ),
            },
        ),
        "version_quad" => {
            let q = format!(
                "{}.{}.{}.{}",
                rng.range(1, 20),
                rng.below(10),
                rng.below(10),
                rng.range(1, 250)
            );
            if rng.chance(50) {
                ("version", q)
            } else {
                ("note", format!("upgraded to version {q} today"))
            }
        }
        "luhn_failing_card" => {
            let d = card_digits(rng);
            let last = d.as_bytes()[d.len() - 1] - b'0';
            let bad = format!(
                "{}{}",
                &d[..d.len() - 1],
                (last + 1 + rng.below(8) as u8) % 10
            );
            ("reference", format_card(rng, &bad))
        }
        "uuid" => (
            "request_id",
            format!(
                "{}-{}-4{}-a{}-{}",
                rng.chars(HEX, 8),
                rng.chars(HEX, 4),
                rng.chars(HEX, 3),
                rng.chars(HEX, 3),
                rng.chars(HEX, 12)
            ),
        ),
        "git_sha" => ("commit", rng.chars(HEX, 40)),
        "sha256" => ("checksum", rng.chars(HEX, 64)),
        "eth_tx_hash" => ("tx_hash", format!("0x{}", rng.chars(HEX, 64))),
        "price" => (
            "amount",
            match rng.below(3) {
                0 => format!("{}.{:02}", rng.range(1, 99999), rng.below(100)),
                1 => format!(
                    "${},{:03}.{:02}",
                    rng.range(1, 999),
                    rng.below(1000),
                    rng.below(100)
                ),
                _ => format!("{} EUR", rng.range(100, 999_999)),
            },
        ),
        "short_phone" => (
            "extension",
            match rng.below(3) {
                0 => format!("{}{}-{}", rng.range(2, 9), rng.digits(2), rng.digits(4)),
                1 => format!("ext. {}", rng.digits(4)),
                _ => format!("+{}", rng.digits_between(3, 6)),
            },
        ),
        "invalid_ssn" => {
            let area = match rng.below(3) {
                0 => 0,
                1 => 666,
                _ => rng.range(900, 999),
            };
            (
                "tax_ref",
                format!(
                    "{area:03}-{:02}-{:04}",
                    rng.range(1, 99),
                    rng.range(1, 9999)
                ),
            )
        }
        "date" => (
            "date",
            match rng.below(3) {
                0 => format!(
                    "20{:02}-{:02}-{:02}",
                    rng.range(10, 30),
                    rng.range(1, 12),
                    rng.range(1, 28)
                ),
                1 => format!(
                    "{:02}/{:02}/20{:02}",
                    rng.range(1, 28),
                    rng.range(1, 12),
                    rng.range(10, 30)
                ),
                _ => format!(
                    "{:02}.{:02}.20{:02}",
                    rng.range(1, 28),
                    rng.range(1, 12),
                    rng.range(10, 30)
                ),
            },
        ),
        "bad_iban" => ("account_ref", iban(rng, false)),
        "slug" => (
            "slug",
            format!(
                "sk-{}-{}-{}-guide",
                rng.pick(&["learn", "tools", "sales"]),
                rng.pick(&["pipeline", "dashboard", "report"]),
                rng.pick(&["tutorial", "notes", "archive"])
            ),
        ),
        "english_basic_bearer" => (
            "description",
            rng.pick(&[
                "Basic plan includes 3 seats",
                "the bearer of this voucher",
                "Basic authentication is disabled",
                "BASIC tier",
                "Bearer token required",
                "bearer-only clients",
            ])
            .to_string(),
        ),
        "bad_base58" => {
            let mut b = vec![0u8];
            b.extend(rng.bytes(24));
            ("ref", base58(&b))
        }
        "zip_plus4" => (
            "zip",
            format!("{:05}-{:04}", rng.range(10000, 99999), rng.below(10000)),
        ),
        "isbn" => (
            "isbn",
            format!(
                "978-{}-{}-{}-{}",
                rng.below(10),
                rng.digits(2),
                rng.digits(6),
                rng.below(10)
            ),
        ),
        _ => (
            "tracking",
            format!(
                "1Z{}{}",
                rng.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 6),
                rng.digits(10)
            ),
        ),
    }
}
