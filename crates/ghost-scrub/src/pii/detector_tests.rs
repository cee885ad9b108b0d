//! Detector behaviour on hand-written strings: one positive and the nearest
//! look-alike for each category, plus overlap resolution.

use super::*;

fn det() -> Detector {
    Detector::new().expect("patterns compile")
}

fn cats(text: &str) -> Vec<Category> {
    det().find(text).into_iter().map(|f| f.category).collect()
}

#[test]
fn every_category_has_a_positive() {
    let cases = [
        (
            "tok eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl end",
            Category::Jwt,
        ),
        (
            "Authorization: Bearer abcDEF0123456789ghiJKL",
            Category::Bearer,
        ),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", Category::Basic),
        ("key sk_live_51H8abcdEFGHijklMNOP", Category::StripeKey),
        ("key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t", Category::OpenAiKey),
        (
            "key sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv",
            Category::AnthropicKey,
        ),
        (
            "ghp_0123456789abcdefghijABCDEFGHIJklmnop",
            Category::GithubToken,
        ),
        ("AKIAIOSFODNN7EXAMPLE", Category::AwsAccessKeyId),
        ("card 4111 1111 1111 1111.", Category::Card),
        ("ssn: 536-22-1234", Category::Ssn),
        ("mail bob.smith+x@mail.example.co.uk!", Category::Email),
        ("call (415) 555-2671 now", Category::PhoneUs),
        ("call +14155552671 now", Category::PhoneUs),
        ("call +44 20 7946 0958 now", Category::PhoneE164),
        ("to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", Category::Bitcoin),
        (
            "to 0x52908400098527886E0F7030069857D2E4169EE7",
            Category::Ethereum,
        ),
        ("iban GB82 WEST 1234 5698 7654 32 THANKS", Category::Iban),
        ("from 192.168.10.1:443", Category::Ipv4),
    ];
    for (text, want) in cases {
        assert_eq!(cats(text), vec![want], "{text}");
    }
}

#[test]
fn look_alikes_survive() {
    for text in [
        "order 4111111111111112",
        "ts 2024-01-15T10:30:00.000Z and 1700000000000",
        "version 10.0.0.1",
        "v1.2.3.4",
        "1.2.3.4.5",
        "ssn 912-12-3456 / 123-00-4567",
        "call 555-2671",
        "sha 9fceb02d0ae598e95dc970b74767f19372d61af8",
        "tx 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060",
        "basic plan and bearer of news",
        "task-management-dashboard-v2-release",
        "id 123e4567-e89b-12d3-a456-426614174000",
        "price 1234.56 USD",
    ] {
        assert_eq!(cats(text), vec![], "{text}");
    }
}

#[test]
fn jwt_as_bearer_is_a_jwt_and_scheme_is_kept() {
    let d = det();
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
    assert_eq!(d.scrub_text(&format!("Bearer {jwt}")), "Bearer [JWT]");
    assert_eq!(
        d.scrub_text("Bearer abcDEF0123456789ghiJKL"),
        "Bearer [REDACTED]"
    );
}

#[test]
fn anthropic_beats_openai_on_same_span() {
    assert_eq!(
        cats("sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv"),
        vec![Category::AnthropicKey]
    );
}

#[test]
fn nothing_found_borrows() {
    let d = det();
    assert!(matches!(
        d.scrub_text("hello world, nothing here"),
        Cow::Borrowed(_)
    ));
    assert!(matches!(d.scrub_text("a@b"), Cow::Borrowed(_)));
}

#[test]
fn skip_leaves_category() {
    let d = det();
    let skip = Skip::NONE.with(Category::Ipv4);
    assert!(d.find_skipping("10.0.0.1", skip).is_empty());
    assert_eq!(d.find("10.0.0.1").len(), 1);
}

#[test]
fn multibyte_neighbours_are_safe() {
    let d = det();
    assert_eq!(d.scrub_text("é192.168.1.1é"), "é192.168.1.1é");
    assert_eq!(d.scrub_text("→ 192.168.1.1 ←"), "→ [IPV4] ←");
    assert_eq!(
        d.scrub_text("üüüüüüüüüüüüüüüü 536-22-1234"),
        "üüüüüüüüüüüüüüüü [SSN]"
    );
}
