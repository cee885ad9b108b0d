//! Config records on ghost.config.v1 change what the scrubber worker does: a
//! service's rule set applies to that service only; others keep the defaults.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_schema::{CaptureRecord, HeaderRecord, ScrubConfigRecord, ScrubRuleRecord};
use ghost_scrubber::config_store::ConfigStore;
use ghost_scrubber::handler::scrub_capture;

fn capture(service: &str) -> CaptureRecord {
    CaptureRecord {
        tenant: "default".into(),
        id: "c1".into(),
        service: service.into(),
        session_id: "s".into(),
        method: "POST".into(),
        uri: "/x".into(),
        request_headers: vec![
            HeaderRecord {
                name: "content-type".into(),
                value: b"application/json".to_vec(),
            },
            HeaderRecord {
                name: "x-tenant".into(),
                value: b"acme".to_vec(),
            },
        ],
        request_body: br#"{"internal_ref":"R-1","contact":"ada@example.com"}"#.to_vec(),
        status: 200,
        response_headers: vec![],
        response_body: vec![],
        started_at_us: 1,
        duration_us: 1,
        upstream: String::new(),
        http_version: "HTTP/1.1".into(),
        body_truncated: false,
        upstream_http_version: String::new(),
    }
}

#[test]
fn service_rules_apply_to_that_service_only() {
    let store = ConfigStore::new().unwrap();
    store.apply(&ScrubConfigRecord {
        id: "cfg-7".into(),
        service: Some("payments".into()),
        enabled: true,
        rules: vec![ScrubRuleRecord {
            path: "$.internal_ref".into(),
            replacement_json: "\"[REF]\"".into(),
        }],
        extra_headers: vec!["X-Tenant".into()],
        extra_keys: vec![],
        changed_at_us: 1,
        actor: "test".into(),
    });
    let paid = scrub_capture(&store.for_service("payments"), capture("payments"));
    let body = String::from_utf8(paid.request_body.clone()).unwrap();
    assert!(body.contains("[REF]") && body.contains("[EMAIL]"), "{body}");
    assert_eq!(paid.request_headers[1].value, b"[REDACTED]");
    assert_eq!(paid.scrub_config_id, "cfg-7");
    assert!(paid.scrubbed_at_us > 0);

    let other = scrub_capture(&store.for_service("users"), capture("users"));
    let body = String::from_utf8(other.request_body).unwrap();
    assert!(body.contains("R-1") && body.contains("[EMAIL]"), "{body}");
    assert_eq!(other.request_headers[1].value, b"acme");
    assert_eq!(other.scrub_config_id, "");

    // A record that no longer compiles is skipped; the previous rules stay.
    store.apply(&ScrubConfigRecord {
        id: "cfg-8".into(),
        service: Some("payments".into()),
        enabled: true,
        rules: vec![ScrubRuleRecord {
            path: "$".into(),
            replacement_json: "null".into(),
        }],
        extra_headers: vec![],
        extra_keys: vec![],
        changed_at_us: 2,
        actor: "test".into(),
    });
    assert_eq!(store.for_service("payments").id, "cfg-7");
}
