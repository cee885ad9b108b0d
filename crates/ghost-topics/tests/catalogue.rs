//! The catalogue agrees with `topics/*.toml` and `schemas/`: every file is
//! compiled in verbatim, every typed topic names its file and its records'
//! subject, and records round-trip through their topic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use std::collections::HashMap;
use std::path::Path;

use ghost_topics::TopicFile;

fn topic_files() -> HashMap<String, TopicFile> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../topics");
    let mut out = HashMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let t: TopicFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            path.file_stem().unwrap().to_str().unwrap(),
            t.name,
            "file name = topic name"
        );
        out.insert(t.name.clone(), t);
    }
    out
}

#[test]
fn every_topic_file_names_a_known_schema_and_valid_settings() {
    for t in topic_files().values() {
        if t.schema == "input" {
            // Dead letters keep the bytes (and so the schema) of what they carry.
            assert_eq!(t.name, "ghost.deadletter.v1", "only the dead-letter topic");
            continue;
        }
        let subject = ghost_schema::Subject::from_dir(&t.schema)
            .unwrap_or_else(|| panic!("{}: schema `{}` is not in schemas/", t.name, t.schema));
        assert!(ghost_schema::registry().unwrap().latest(subject).is_some());
        assert!(
            t.name.starts_with("ghost.") && t.name.ends_with(".v1"),
            "{}",
            t.name
        );
        assert!(t.partitions >= 1 && t.replication >= 1, "{}", t.name);
        assert!(
            matches!(t.cleanup_policy.as_str(), "delete" | "compact"),
            "{}",
            t.name
        );
        assert!(t.retention_ms == -1 || t.retention_ms > 0, "{}", t.name);
        assert!(!t.key.is_empty());
    }
}

#[test]
fn every_file_is_compiled_in_verbatim_and_catalogued() {
    let on_disk = topic_files();
    assert_eq!(
        ghost_topics::FILES.len(),
        on_disk.len(),
        "a file under topics/ is not compiled in"
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../topics");
    for (name, text) in ghost_topics::FILES {
        assert_eq!(
            std::fs::read_to_string(dir.join(name)).unwrap(),
            text,
            "{name}"
        );
    }
    let mut all: Vec<&str> = ghost_topics::ALL.to_vec();
    all.sort_unstable();
    let mut names: Vec<&str> = on_disk.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(all, names, "ghost_topics::ALL lists exactly the files");
    for f in ghost_topics::files().unwrap() {
        assert_eq!(&on_disk[&f.name], f);
    }
}

fn check_typed<T: ghost_schema::Contract>(topic: ghost_topics::Topic<T>) {
    let f = ghost_topics::file(topic.name()).unwrap();
    assert_eq!(f.schema, T::SUBJECT.dir(), "{}: schema", topic.name());
    let spec = topic.spec().unwrap();
    assert_eq!(spec.partitions, f.partitions);
    assert_eq!(spec.compacted, f.cleanup_policy == "compact");
}

#[test]
fn typed_topics_name_their_files_and_subjects() {
    check_typed(ghost_topics::CAPTURES);
    check_typed(ghost_topics::SCRUBBED);
    check_typed(ghost_topics::MODES);
    check_typed(ghost_topics::LIBRARY);
    check_typed(ghost_topics::CONFIG);
    assert_eq!(
        ghost_topics::file(ghost_topics::DEAD_LETTER.name())
            .unwrap()
            .schema,
        "input"
    );
}

fn stored(r: &ghost_log::Record) -> ghost_log::StoredRecord {
    ghost_log::StoredRecord {
        partition: 0,
        offset: 7,
        key: r.key.clone(),
        value: r.value.clone(),
        headers: r.headers.clone(),
        timestamp_ms: r.timestamp_ms,
    }
}

#[test]
fn records_carry_key_schema_header_and_trace_and_decode_back() {
    use ghost_schema::{ModeChangeRecord, ModeRecord};
    let m = ModeChangeRecord {
        tenant: "default".into(),
        id: "m1".into(),
        service: Some("users".into()),
        mode: ModeRecord::Mock,
        barrier: vec![],
        changed_at_us: 5,
        actor: "test".into(),
    };
    let hop = ghost_log::trace::TraceParent::root();
    let r = ghost_topics::MODES.record(&m, Some(&hop)).unwrap();
    assert_eq!(r.key.as_deref(), Some(&b"service:users"[..]));
    let header = |name: &str| {
        r.headers
            .iter()
            .find(|h| h.name == name)
            .map(|h| h.value.clone())
    };
    assert_eq!(
        header("ghost-schema").as_deref(),
        Some(&b"dev.ghost.ModeChange"[..])
    );
    assert_eq!(header("traceparent").unwrap(), hop.header().value);
    assert_eq!(ghost_topics::MODES.decode(&stored(&r)).unwrap(), m);
}

#[test]
fn undecodable_records_say_which_topic_and_offset() {
    let mut r = stored(&ghost_log::Record::default());
    let e = ghost_topics::CAPTURES.decode(&r).unwrap_err().to_string();
    assert_eq!(e, "ghost.captures.v1 record at 0/7 has no value");
    r.value = Some(bytes::Bytes::from_static(b"not avro"));
    let e = ghost_topics::CAPTURES.decode(&r).unwrap_err().to_string();
    assert!(
        e.starts_with("ghost.captures.v1 record at 0/7 is not decodable: "),
        "{e}"
    );
}
