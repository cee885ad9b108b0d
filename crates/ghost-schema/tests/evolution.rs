//! Schema evolution: old records stay readable, and the schema files on disk, the
//! registry and the compatibility rules agree with each other.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "clippy.toml allows these in #[test] fns only; helpers here are test code too"
)]

mod fixtures;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use apache_avro::Schema;
use apache_avro::rabin::Rabin;
use apache_avro::types::{Record, Value};
use apache_avro::writer::datum::GenericDatumWriter;
use ghost_schema::{
    CaptureRecord, HeaderRecord, SchemaError, SchemaId, Subject, check_backward_compatible, decode,
    encode_with_version, registry, schema_id,
};

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

/// `schemas/<dir>/vN.avsc` on disk, as dir → (N → path).
fn schema_files() -> BTreeMap<String, BTreeMap<u32, PathBuf>> {
    let mut found = BTreeMap::new();
    for dir in std::fs::read_dir(schemas_dir()).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let mut versions = BTreeMap::new();
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            let file_name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let version = file_name
                .strip_prefix('v')
                .and_then(|rest| rest.strip_suffix(".avsc"))
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or_else(|| panic!("{name}/{file_name} is not named vN.avsc"));
            versions.insert(version, path);
        }
        found.insert(name, versions);
    }
    found
}

fn parse(path: &Path) -> Schema {
    Schema::parse_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
}

fn fingerprint(schema: &Schema) -> u64 {
    u64::from_le_bytes(schema.fingerprint::<Rabin>().bytes.try_into().unwrap())
}

#[test]
fn v1_capture_decodes_into_latest_with_defaults() {
    let original = fixtures::capture();
    let v1 = encode_with_version(&original, 1).unwrap();
    assert_eq!(schema_id(&v1).unwrap().to_string(), "dev.ghost.Capture/v1");

    let read: CaptureRecord = decode(&v1).unwrap();
    assert_eq!(read.upstream, "");
    assert_eq!(read.http_version, "HTTP/1.1");
    assert!(!read.body_truncated);
    let expected = CaptureRecord {
        upstream: String::new(),
        http_version: "HTTP/1.1".to_owned(),
        body_truncated: false,
        ..original
    };
    assert_eq!(read, expected);
}

/// Builds v1 bytes by hand from the file on disk, independent of the crate's encoder.
#[test]
fn hand_written_v1_capture_decodes() {
    let schema = parse(&schemas_dir().join("capture/v1.avsc"));
    let header = |name: &str, value: &[u8]| {
        Value::Record(vec![
            ("name".to_owned(), Value::String(name.to_owned())),
            ("value".to_owned(), Value::Bytes(value.to_vec())),
        ])
    };
    let mut record = Record::new(&schema).unwrap();
    record.put("id", "id-1");
    record.put("service", "svc");
    record.put("session_id", "s");
    record.put("method", "GET");
    record.put("uri", "/a?b=c");
    record.put("request_headers", Value::Array(vec![header("a", &[0xFF])]));
    record.put("request_body", Value::Bytes(Vec::new()));
    record.put("status", 404);
    record.put("response_headers", Value::Array(Vec::new()));
    record.put("response_body", Value::Bytes(vec![0, 1, 2]));
    record.put("started_at_us", Value::TimestampMicros(7));
    record.put("duration_us", 9_i64);

    let mut bytes = vec![0xC3, 0x01];
    bytes.extend_from_slice(&fingerprint(&schema).to_le_bytes());
    GenericDatumWriter::builder(&schema)
        .build()
        .unwrap()
        .write_value(&mut bytes, record)
        .unwrap();

    let read: CaptureRecord = decode(&bytes).unwrap();
    assert_eq!(
        read.request_headers,
        vec![HeaderRecord {
            name: "a".to_owned(),
            value: vec![0xFF]
        }]
    );
    assert_eq!(
        (read.status, read.started_at_us, read.duration_us),
        (404, 7, 9)
    );
    assert_eq!(read.response_body, vec![0, 1, 2]);
    assert_eq!(
        (read.upstream.as_str(), read.http_version.as_str()),
        ("", "HTTP/1.1")
    );
    assert!(!read.body_truncated);
}

#[test]
fn encode_with_unknown_version_is_an_error() {
    let err = encode_with_version(&fixtures::capture(), 99).unwrap_err();
    assert_eq!(
        err,
        SchemaError::UnknownVersion {
            subject: Subject::Capture,
            version: 99
        }
    );
    assert!(encode_with_version(&fixtures::capture(), 0).is_err());
}

#[test]
fn encode_with_latest_version_equals_encode() {
    let capture = fixtures::capture();
    assert_eq!(
        encode_with_version(&capture, 4).unwrap(),
        ghost_schema::encode(&capture).unwrap()
    );
}

#[test]
fn every_schema_file_is_registered_and_each_version_reads_the_previous() {
    let registry = registry().unwrap();
    let files = schema_files();
    assert!(
        !files.is_empty(),
        "no schemas found under {}",
        schemas_dir().display()
    );
    let mut on_disk = 0;
    for (dir, versions) in &files {
        let subject = Subject::from_dir(dir)
            .unwrap_or_else(|| panic!("schemas/{dir} has no Subject; add one to contract.rs"));
        let numbers: Vec<u32> = versions.keys().copied().collect();
        let expected: Vec<u32> = (1..=numbers.len() as u32).collect();
        assert_eq!(
            numbers, expected,
            "schemas/{dir} versions must be v1..vN without gaps"
        );

        let mut previous: Option<(u32, Schema)> = None;
        for (&version, path) in versions {
            on_disk += 1;
            let schema = parse(path);
            let id = SchemaId { subject, version };
            let registered = registry
                .get(id)
                .unwrap_or_else(|| panic!("{} is not registered (registry.rs)", path.display()));
            assert_eq!(registered.file, format!("schemas/{dir}/v{version}.avsc"));
            assert_eq!(
                registered.fingerprint,
                fingerprint(&schema),
                "{id} embedded in the build differs from {}",
                path.display()
            );
            assert_eq!(schema.name().unwrap().fullname(None), subject.name());
            if let Some((old_version, old)) = &previous {
                check_backward_compatible(old, &schema).unwrap_or_else(|e| {
                    panic!("schemas/{dir}/v{version} cannot read v{old_version} data: {e}")
                });
            }
            previous = Some((version, schema));
        }
    }
    assert_eq!(
        registry.all().len(),
        on_disk,
        "registry lists a schema not on disk"
    );
    for subject in Subject::ALL {
        assert!(
            files.contains_key(subject.dir()),
            "no schemas/{} folder",
            subject.dir()
        );
    }
}

/// Policy: every field and record says why it exists, so the schemas document the log.
#[test]
fn every_record_and_field_has_a_doc() {
    fn walk(node: &serde_json::Value, at: &str, missing: &mut Vec<String>) {
        match node {
            serde_json::Value::Object(map) => {
                let is_record = map.get("type").and_then(|t| t.as_str()) == Some("record");
                let is_field = map.contains_key("name") && map.contains_key("type") && !is_record;
                let named = map.get("name").and_then(|n| n.as_str()).unwrap_or("?");
                let needs_doc = is_record
                    || is_field
                    || map.get("type").and_then(|t| t.as_str()) == Some("enum");
                let has_doc = map
                    .get("doc")
                    .and_then(|d| d.as_str())
                    .is_some_and(|d| !d.trim().is_empty());
                if needs_doc && !has_doc {
                    missing.push(format!("{at}/{named}"));
                }
                for (key, child) in map {
                    walk(child, &format!("{at}/{named}.{key}"), missing);
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    walk(item, at, missing);
                }
            }
            _ => {}
        }
    }
    let mut missing = Vec::new();
    for (dir, versions) in schema_files() {
        for (version, path) in versions {
            let json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            assert_eq!(json["namespace"], "dev.ghost", "{dir}/v{version}");
            walk(&json, &format!("{dir}/v{version}"), &mut missing);
        }
    }
    assert!(missing.is_empty(), "missing doc: {missing:#?}");
}

#[test]
fn records_written_before_tenants_belong_to_the_default_tenant() {
    let mut original = fixtures::capture();
    original.tenant = "acme".into();
    let v3 = encode_with_version(&original, 3).unwrap();
    let read: CaptureRecord = decode(&v3).unwrap();
    assert_eq!(read.tenant, "default");
    let v4 = encode_with_version(&original, 4).unwrap();
    let read: CaptureRecord = decode(&v4).unwrap();
    assert_eq!(read.tenant, "acme");

    let mut mode = fixtures::mode_change(Some("users"));
    mode.tenant = "acme".into();
    let v1 = encode_with_version(&mode, 1).unwrap();
    let read: ghost_schema::ModeChangeRecord = decode(&v1).unwrap();
    assert_eq!(read.tenant, "default");
}

#[test]
fn scrubbed_captures_keep_their_tenant() {
    let r = ghost_schema::ScrubbedCaptureRecord {
        id: "c".into(),
        service: "s".into(),
        session_id: String::new(),
        method: "GET".into(),
        uri: "/".into(),
        request_headers: vec![],
        request_body: vec![],
        status: 200,
        response_headers: vec![],
        response_body: vec![],
        started_at_us: 1,
        duration_us: 1,
        upstream: String::new(),
        http_version: "HTTP/1.1".into(),
        body_truncated: false,
        scrubbed_at_us: 5,
        scrub_config_id: String::new(),
        findings: vec![],
        upstream_http_version: "HTTP/2".into(),
        tenant: "acme".into(),
    };
    let bytes = ghost_schema::encode(&r).unwrap();
    assert_eq!(
        schema_id(&bytes).unwrap().to_string(),
        "dev.ghost.ScrubbedCapture/v2"
    );
    let back: ghost_schema::ScrubbedCaptureRecord = decode(&bytes).unwrap();
    assert_eq!(back, r);
}
