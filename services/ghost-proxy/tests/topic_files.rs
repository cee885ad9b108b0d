//! `topics/*.toml` agree with `schemas/` and with the topics the proxy creates.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicFile {
    name: String,
    key: String,
    partitions: u32,
    replication: u32,
    cleanup_policy: String,
    retention_ms: i64,
    schema: String,
}

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
fn the_proxy_creates_topics_exactly_as_the_files_say() {
    let files = topic_files();
    for spec in ghost_proxy::topic_specs() {
        let f = files
            .get(&spec.name)
            .unwrap_or_else(|| panic!("no topics/{}.toml", spec.name));
        assert_eq!(f.partitions, spec.partitions, "{}", spec.name);
        assert_eq!(
            f.cleanup_policy == "compact",
            spec.compacted,
            "{}",
            spec.name
        );
    }
}
