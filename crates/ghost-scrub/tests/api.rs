//! The public `Scrubber` API end to end: JSON, bodies, headers, URLs, config.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ghost_scrub::{Category, ScrubConfig, ScrubRule, Scrubber, ScrubberError};
use serde_json::json;

fn scrubber() -> Scrubber {
    Scrubber::new(ScrubConfig::default()).unwrap()
}

#[test]
fn json_order_is_rules_then_keys_then_regex() {
    let s = Scrubber::new(ScrubConfig {
        rules: vec![ScrubRule {
            path: "$.customer.name".into(),
            replacement: json!("[NAME]"),
        }],
        extra_keys: vec!["taxId".into()],
        enabled: true,
    })
    .unwrap();
    let mut v = json!({
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com", "tax_id": "X1"},
        "password": {"nested": ["anything", 1]},
        "note": "card 4111 1111 1111 1111, call +1 415-555-2671",
        "max_tokens": 128
    });
    let report = s.scrub_json(&mut v);
    assert_eq!(
        v,
        json!({
            "customer": {"name": "[NAME]", "email": "[EMAIL]", "tax_id": "[REDACTED]"},
            "password": "[REDACTED]",
            "note": "card [CARD], call [PHONE]",
            "max_tokens": 128
        })
    );
    assert_eq!((report.rules, report.keys), (1, 2));
    assert_eq!(report.count(Category::Card), 1);
    assert_eq!(report.count(Category::Email), 1);
    assert_eq!(report.total(), 6);
}

#[test]
fn keys_are_never_rewritten_and_numbers_can_be_cards() {
    let mut v =
        json!({"bob@example.com": 1, "value": 4111111111111111u64, "order": 4111111111111112u64});
    scrubber().scrub_json(&mut v);
    assert_eq!(
        v,
        json!({"bob@example.com": 1, "value": "[CARD]", "order": 4111111111111112u64})
    );
}

#[test]
fn version_fields_keep_dotted_quads() {
    let mut v =
        json!({"version": "10.0.0.1", "build": {"client_version": ["1.2.3.4"]}, "ip": "10.0.0.1"});
    scrubber().scrub_json(&mut v);
    assert_eq!(
        v,
        json!({"version": "10.0.0.1", "build": {"client_version": ["1.2.3.4"]}, "ip": "[IPV4]"})
    );
}

#[test]
fn bodies_by_content_type() {
    let s = scrubber();
    let json_body = br#"{"email":"a.b@example.org","n":1}"#;
    let out = s.scrub_body(json_body, Some("application/json")).unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out).unwrap(),
        json!({"email": "[EMAIL]", "n": 1})
    );
    assert_eq!(s.scrub_body(br#"{"n":1}"#, Some("application/json")), None);
    assert_eq!(
        s.scrub_body(b"ip 10.1.2.3", Some("text/plain")).unwrap(),
        b"ip [IPV4]"
    );
    assert_eq!(
        s.scrub_body(
            b"user=bob&password=hunter2&email=a%40b.co",
            Some("application/x-www-form-urlencoded")
        )
        .unwrap(),
        b"user=bob&password=[REDACTED]&email=[EMAIL]"
    );
    let png = b"\x89PNG\r\n\x1a\n 4111111111111111";
    assert_eq!(s.scrub_body(png, Some("image/png")), None);
    assert_eq!(s.scrub_body(b"mail a@b.io", None).unwrap(), b"mail [EMAIL]");
}

#[test]
fn headers() {
    let s = scrubber();
    assert_eq!(
        s.scrub_header_value("Authorization", "Bearer abcDEF0123456789ghiJKL"),
        "Bearer [REDACTED]"
    );
    assert_eq!(
        s.scrub_header_value("authorization", "Digest username=\"x\""),
        "Digest [REDACTED]"
    );
    assert_eq!(s.scrub_header_value("X-Api-Key", "k-123"), "[REDACTED]");
    assert_eq!(
        s.scrub_header_value("Cookie", "sid=abc; theme=dark"),
        "sid=[REDACTED]; theme=[REDACTED]"
    );
    assert_eq!(
        s.scrub_header_value("Set-Cookie", "sid=abc; Path=/; HttpOnly"),
        "sid=[REDACTED]; Path=/; HttpOnly"
    );
    assert_eq!(
        s.scrub_header_value("X-Forwarded-For", "203.0.113.9"),
        "[IPV4]"
    );
    assert!(matches!(
        s.scrub_header_value("Accept", "application/json"),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn urls() {
    let s = scrubber();
    assert_eq!(
        s.scrub_url("https://api.example.com/v1/users/bob%40example.com/orders?api_key=sk_live_abc&q=hi&phone=%2B14155552671#access_token=xyz"),
        "https://api.example.com/v1/users/[EMAIL]/orders?api_key=[REDACTED]&q=hi&phone=[PHONE]#access_token=[REDACTED]"
    );
    assert_eq!(
        s.scrub_url("https://user:s3cret@10.0.0.1:8443/x"),
        "https://user:[REDACTED]@10.0.0.1:8443/x"
    );
    assert_eq!(s.scrub_url("/lookup/536-22-1234"), "/lookup/[SSN]");
    let plain = "/v1/orders/ord_8H2kLmN0?limit=10";
    assert!(matches!(s.scrub_url(plain), std::borrow::Cow::Borrowed(_)));
}

#[test]
fn disabled_changes_nothing() {
    let s = Scrubber::new(ScrubConfig {
        enabled: false,
        ..ScrubConfig::default()
    })
    .unwrap();
    let mut v = json!({"password": "x", "email": "a@b.io"});
    assert!(s.scrub_json(&mut v).is_empty());
    assert_eq!(v, json!({"password": "x", "email": "a@b.io"}));
    assert_eq!(s.scrub_body(b"a@b.io", None), None);
    assert_eq!(s.scrub_url("/a@b.io"), "/a@b.io");
}

#[test]
fn config_is_strict_and_defaults_on() {
    let c: ScrubConfig = serde_json::from_value(json!({})).unwrap();
    assert!(c.enabled);
    assert!(serde_json::from_value::<ScrubConfig>(json!({"enable": true})).is_err());
    let c: ScrubConfig = serde_json::from_value(json!({"rules": [{"path": "$.a"}]})).unwrap();
    assert_eq!(c.rules[0].replacement, json!("[REDACTED]"));
    let err = Scrubber::new(ScrubConfig {
        rules: vec![ScrubRule {
            path: "$..*".into(),
            replacement: json!(null),
        }],
        ..ScrubConfig::default()
    });
    assert!(matches!(err, Err(ScrubberError::Rule(_))));
}

#[test]
fn ibans_are_found_in_either_case_but_not_mixed() {
    let d = ghost_scrub::Detector::new().unwrap();
    let cats = |t: &str| -> Vec<(Category, String)> {
        d.find(t)
            .into_iter()
            .map(|f| (f.category, t[f.range].to_owned()))
            .collect()
    };
    assert_eq!(
        cats("pay to gb82west12345698765432 today"),
        vec![(Category::Iban, "gb82west12345698765432".into())]
    );
    assert_eq!(
        cats("IBAN: GB82 WEST 1234 5698 7654 32."),
        vec![(Category::Iban, "GB82 WEST 1234 5698 7654 32".into())]
    );
    // The same characters in mixed case read as an id, not an IBAN.
    assert!(cats("token gb82WEST12345698765432 here").is_empty());
}
