//! Realistic values for every PII category, valid by the same rules real issuers
//! use (Luhn, mod-97, base58check, bech32; see `encoders.rs`).

use ghost_scrub::Category;

use super::encoders::{b64, bitcoin, iban, luhn_digit};
use super::rng::{BASE62, HEX, Rng, URLSAFE};

/// A value and, for Bearer/Basic, the prefix that is context rather than PII.
pub struct PiiValue {
    pub prefix: String,
    pub secret: String,
}

pub fn generate(rng: &mut Rng, c: Category) -> PiiValue {
    let plain = |s: String| PiiValue {
        prefix: String::new(),
        secret: s,
    };
    match c {
        Category::Jwt => plain(jwt(rng)),
        Category::Bearer => {
            let scheme = rng.pick(&["Bearer ", "bearer ", "BEARER "]).to_string();
            let tok = rng.chars_between(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-",
                24,
                64,
            );
            PiiValue {
                prefix: scheme,
                secret: format!("a{tok}"),
            }
        }
        Category::Basic => {
            let user = rng
                .pick(&["admin", "svc-billing", "alice", "deploy", "api"])
                .to_string();
            let pass = rng.chars_between(BASE62, 8, 24);
            PiiValue {
                prefix: rng.pick(&["Basic ", "basic "]).to_string(),
                secret: b64(format!("{user}:{pass}").as_bytes(), false),
            }
        }
        Category::StripeKey => {
            let kind = rng
                .pick(&["sk_live_", "sk_test_", "pk_live_", "rk_live_", "rk_test_"])
                .to_string();
            plain(format!("{kind}{}", rng.chars_between(BASE62, 24, 99)))
        }
        Category::OpenAiKey => {
            let body = format!("{}T3BlbkFJ{}", rng.chars(BASE62, 20), rng.chars(BASE62, 20));
            plain(match rng.below(3) {
                0 => format!("sk-{body}"),
                1 => format!("sk-proj-{}{body}", rng.chars(URLSAFE, 40)),
                _ => format!("sk-svcacct-{}{body}", rng.chars(URLSAFE, 30)),
            })
        }
        Category::AnthropicKey => plain(format!("sk-ant-api03-{}AA", rng.chars(URLSAFE, 93))),
        Category::GithubToken => plain(if rng.chance(80) {
            format!(
                "{}_{}",
                rng.pick(&["ghp", "gho", "ghu", "ghs", "ghr"]),
                rng.chars(BASE62, 36)
            )
        } else {
            format!(
                "github_pat_{}_{}",
                rng.chars(BASE62, 22),
                rng.chars(BASE62, 59)
            )
        }),
        Category::AwsAccessKeyId => plain(format!(
            "{}{}",
            rng.pick(&["AKIA", "ASIA"]),
            rng.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
        )),
        Category::Card => {
            let d = card_digits(rng);
            plain(format_card(rng, &d))
        }
        Category::Ssn => {
            let area = loop {
                let a = rng.range(1, 899);
                if a != 666 {
                    break a;
                }
            };
            let sep = if rng.chance(85) { "-" } else { " " };
            plain(format!(
                "{area:03}{sep}{:02}{sep}{:04}",
                rng.range(1, 99),
                rng.range(1, 9999)
            ))
        }
        Category::Email => plain(email(rng)),
        Category::PhoneUs => plain(phone_us(rng)),
        Category::PhoneE164 => plain(phone_intl(rng)),
        Category::Bitcoin => plain(bitcoin(rng)),
        Category::Ethereum => {
            let hex = rng.chars(HEX, 40);
            plain(if rng.chance(50) {
                format!("0x{hex}")
            } else {
                format!("0x{}", mixed_case(rng, &hex))
            })
        }
        Category::Iban => plain(iban(rng, true)),
        Category::Ipv4 => {
            let o = |rng: &mut Rng| rng.range(0, 255).to_string();
            plain(format!(
                "{}.{}.{}.{}",
                rng.range(1, 254),
                o(rng),
                o(rng),
                rng.range(1, 254)
            ))
        }
    }
}

fn jwt(rng: &mut Rng) -> String {
    let header = rng.pick(&[
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"alg":"RS256","kid":"k1"}"#,
        r#"{"typ":"JWT","alg":"ES256"}"#,
    ]);
    let payload = format!(
        r#"{{"sub":"{}","iat":{},"scope":"read write"}}"#,
        rng.digits(8),
        1_700_000_000 + rng.below(1_000_000)
    );
    format!(
        "{}.{}.{}",
        b64(header.as_bytes(), true),
        b64(payload.as_bytes(), true),
        rng.chars(URLSAFE, 43)
    )
}

/// Issuer prefix, length, and a Luhn check digit computed here.
pub fn card_digits(rng: &mut Rng) -> String {
    let (prefix, len): (String, usize) = match rng.below(6) {
        0 => ("4".into(), *rng.pick(&[16, 16, 16, 13, 19])),
        1 => (rng.range(51, 55).to_string(), 16),
        2 => (rng.range(2221, 2720).to_string(), 16),
        3 => (rng.pick(&["34", "37"]).to_string(), 15),
        4 => (rng.pick(&["6011", "65", "644", "649"]).to_string(), 16),
        _ => (rng.pick(&["300", "305", "36", "38"]).to_string(), 14),
    };
    let mut d = prefix.clone();
    d.push_str(&rng.digits(len - prefix.len() - 1));
    d.push(luhn_digit(&d));
    d
}

pub fn format_card(rng: &mut Rng, d: &str) -> String {
    let sep = match rng.below(3) {
        0 => "",
        1 => " ",
        _ => "-",
    };
    if sep.is_empty() || d.len() > 16 {
        return d.to_owned();
    }
    let groups: &[usize] = if d.len() == 15 {
        &[4, 6, 5]
    } else if d.len() == 14 {
        &[4, 6, 4]
    } else {
        &[4, 4, 4, 4]
    };
    let mut out = Vec::new();
    let mut pos = 0;
    for &g in groups {
        let end = (pos + g).min(d.len());
        out.push(&d[pos..end]);
        pos = end;
    }
    if pos < d.len() {
        out.push(&d[pos..]);
    }
    out.join(sep)
}

fn email(rng: &mut Rng) -> String {
    let first = *rng.pick(&[
        "john", "maria", "li", "ahmed", "olga", "Kenji", "ana", "Pierre",
    ]);
    let last = *rng.pick(&[
        "smith", "garcia", "wang", "okafor", "Ivanova", "tanaka", "silva",
    ]);
    let local = match rng.below(5) {
        0 => format!("{first}.{last}"),
        1 => format!("{first}_{last}{}", rng.range(1, 99)),
        2 => format!("{first}+{}", rng.pick(&["news", "billing", "test"])),
        3 => format!("{}{last}", &first[..1]),
        _ => format!("{first}-{last}.{}", rng.range(1970, 2005)),
    };
    let domain = *rng.pick(&[
        "gmail.com",
        "example.co.uk",
        "corp-mail.io",
        "mail.acme-widgets.com",
        "Yahoo.fr",
        "uni.edu",
    ]);
    format!("{local}@{domain}")
}

fn phone_us(rng: &mut Rng) -> String {
    let a = format!("{}{}", rng.range(2, 9), rng.digits(2));
    let e = format!("{}{}", rng.range(2, 9), rng.digits(2));
    let n = rng.digits(4);
    match rng.below(7) {
        0 => format!("({a}) {e}-{n}"),
        1 => format!("{a}-{e}-{n}"),
        2 => format!("{a}.{e}.{n}"),
        3 => format!("+1 {a} {e} {n}"),
        4 => format!("+1-{a}-{e}-{n}"),
        5 => format!("+1{a}{e}{n}"),
        _ => format!("1-{a}-{e}-{n}"),
    }
}

fn phone_intl(rng: &mut Rng) -> String {
    let (cc, nsn): (&str, usize) = *rng.pick(&[
        ("44", 10),
        ("49", 11),
        ("33", 9),
        ("81", 10),
        ("61", 9),
        ("91", 10),
        ("55", 11),
        ("34", 9),
        ("39", 10),
        ("31", 9),
        ("46", 9),
        ("86", 11),
    ]);
    let national = format!("{}{}", rng.range(1, 9), rng.digits(nsn - 1));
    if rng.chance(50) {
        return format!("+{cc}{national}");
    }
    let mut groups = Vec::new();
    let mut rest = national.as_str();
    let first = rng.range(1, 3);
    groups.push(&rest[..first]);
    rest = &rest[first..];
    while !rest.is_empty() {
        let g = rest.len().min(rng.range(3, 4));
        groups.push(&rest[..g]);
        rest = &rest[g..];
    }
    format!("+{cc} {}", groups.join(" "))
}

fn mixed_case(rng: &mut Rng, s: &str) -> String {
    s.chars()
        .map(|c| {
            if rng.chance(50) {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}
