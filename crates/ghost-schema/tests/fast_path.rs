//! Records written with the latest schema decode through apache-avro's
//! schema-aware deserializer (no `Value` tree). If a wire struct's serde name ever
//! stops matching its Avro record name, that path fails and decoding silently
//! falls back to the slow one: this test makes that loud.

#![allow(clippy::unwrap_used, clippy::panic, reason = "test code fails loudly")]

mod fixtures;

use apache_avro::reader::datum::GenericDatumReader;
use ghost_schema::{Contract, HEADER_LEN, encode, registry};

fn fast<T: Contract>(value: &T) {
    let bytes = encode(value).unwrap();
    let latest = registry().unwrap().latest(T::SUBJECT).unwrap();
    let reader = GenericDatumReader::builder(&latest.schema).build().unwrap();
    let mut body = &bytes[HEADER_LEN..];
    let decoded: T = reader.read_deser(&mut body).unwrap_or_else(|e| {
        panic!(
            "{} takes the slow path: {}",
            T::SUBJECT,
            &e.to_string()[..120]
        )
    });
    assert!(body.is_empty());
    assert_eq!(encode(&decoded).unwrap(), bytes);
}

#[test]
fn every_record_type_decodes_on_the_fast_path() {
    fast(&fixtures::capture());
    fast(&fixtures::empty_capture());
    fast(&fixtures::mode_change(None));
    fast(&fixtures::mode_change(Some("svc")));
    fast(&fixtures::library_upsert());
    fast(&fixtures::library_delete());
}

#[test]
fn scrubber_records_round_trip_on_the_fast_path() {
    use ghost_schema::{FindingRecord, ScrubConfigRecord, ScrubRuleRecord, ScrubbedCaptureRecord};
    let c = fixtures::capture();
    let scrubbed = ScrubbedCaptureRecord {
        tenant: "default".into(),
        upstream_http_version: String::new(),
        id: c.id.clone(),
        service: c.service.clone(),
        session_id: c.session_id.clone(),
        method: c.method.clone(),
        uri: "/users/[EMAIL]".into(),
        request_headers: c.request_headers.clone(),
        request_body: b"{\"email\":\"[EMAIL]\"}".to_vec(),
        status: c.status,
        response_headers: c.response_headers.clone(),
        response_body: c.response_body.clone(),
        started_at_us: c.started_at_us,
        duration_us: c.duration_us,
        upstream: c.upstream.clone(),
        http_version: c.http_version.clone(),
        body_truncated: false,
        scrubbed_at_us: 1_795_000_000_000_000,
        scrub_config_id: String::new(),
        findings: vec![FindingRecord {
            category: "email".into(),
            count: 2,
        }],
    };
    fast(&scrubbed);
    assert_eq!(
        ghost_schema::decode::<ScrubbedCaptureRecord>(&encode(&scrubbed).unwrap()).unwrap(),
        scrubbed
    );
    let config = ScrubConfigRecord {
        id: "cfg-1".into(),
        service: Some("payments".into()),
        enabled: true,
        rules: vec![ScrubRuleRecord {
            path: "$.card.number".into(),
            replacement_json: "\"[CARD]\"".into(),
        }],
        extra_headers: vec!["x-tenant".into()],
        extra_keys: vec!["pan".into()],
        changed_at_us: 1,
        actor: "api-key:admin".into(),
    };
    fast(&config);
    // A capture is not a scrubbed capture: the subjects never mix.
    assert!(ghost_schema::decode::<ScrubbedCaptureRecord>(&encode(&c).unwrap()).is_err());
}
