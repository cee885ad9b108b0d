//! Topic directories and names: validating names, creating a topic's files, and
//! loading every topic (recovering its partitions) when the log opens.

use super::config::EmbeddedConfig;
use super::fsutil::{self, io_err};
use super::partition::{Shared, View};
use super::recovery;
use super::writer::Writer;
use crate::{LogError, TopicSpec};
use std::path::PathBuf;
use std::sync::Arc;

/// A partition recovered from disk, before its writer task is started.
pub(crate) type Opened = (Arc<Shared>, Writer);

pub(crate) use crate::names::validate_name;

pub(crate) fn check_same(existing: &TopicSpec, requested: &TopicSpec) -> Result<(), LogError> {
    if existing.partitions != requested.partitions {
        return Err(LogError::TopicMismatch {
            topic: requested.name.clone(),
            existing: existing.partitions,
            requested: requested.partitions,
        });
    }
    if existing.compacted != requested.compacted {
        tracing::warn!(
            topic = %requested.name,
            existing = existing.compacted,
            requested = requested.compacted,
            "create_topic: topic exists with a different compaction setting; keeping it"
        );
    }
    Ok(())
}

fn topics_dir(cfg: &EmbeddedConfig) -> PathBuf {
    cfg.dir.join("topics")
}

/// Recovers every partition of a topic directory. Blocking.
fn open_partitions(cfg: &EmbeddedConfig, spec: &TopicSpec) -> Result<Vec<Opened>, LogError> {
    let topic_dir = topics_dir(cfg).join(&spec.name);
    (0..spec.partitions)
        .map(|id| {
            let dir = topic_dir.join(id.to_string());
            let recovered = recovery::recover(&dir, id, cfg.record_limit())?;
            let view = View {
                segments: recovered.segments,
                end: recovered.next_offset,
            };
            let shared = Arc::new(Shared::new(
                spec.name.clone(),
                id,
                dir,
                cfg.record_limit(),
                view,
            ));
            let writer = Writer::new(Arc::clone(&shared), cfg.fsync, cfg.segment_bytes)?;
            Ok((shared, writer))
        })
        .collect()
}

/// Creates a topic's partitions, then its `topic.json` last: a topic exists once its
/// spec file does, so a crash halfway leaves directories that the next create reuses.
pub(crate) fn create_topic_files(
    cfg: &EmbeddedConfig,
    spec: &TopicSpec,
) -> Result<Vec<Opened>, LogError> {
    let topic_dir = topics_dir(cfg).join(&spec.name);
    fsutil::create_dir(&topic_dir)?;
    let opened = open_partitions(cfg, spec)?;
    let json = serde_json::to_vec_pretty(spec)
        .map_err(|e| LogError::Backend(format!("encoding spec of `{}`: {e}", spec.name)))?;
    fsutil::write_atomic(&topic_dir.join("topic.json"), &json)?;
    fsutil::sync_dir(&topics_dir(cfg))?;
    Ok(opened)
}

/// Reads every `topics/<name>/topic.json` and recovers its partitions. Blocking.
pub(crate) fn load_topics(cfg: &EmbeddedConfig) -> Result<Vec<(TopicSpec, Vec<Opened>)>, LogError> {
    let dir = topics_dir(cfg);
    fsutil::create_dir(&dir)?;
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(io_err("list directory", &dir))? {
        let path = entry.map_err(io_err("list directory", &dir))?.path();
        let spec_path = path.join("topic.json");
        if !spec_path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&spec_path).map_err(io_err("read topic spec", &spec_path))?;
        let spec: TopicSpec = serde_json::from_slice(&bytes).map_err(|e| LogError::Corrupt {
            path: spec_path.display().to_string(),
            detail: format!("invalid topic spec: {e}"),
        })?;
        if path.file_name() != Some(spec.name.as_ref()) || spec.partitions == 0 {
            return Err(LogError::Corrupt {
                path: spec_path.display().to_string(),
                detail: format!(
                    "spec for `{}` with {} partitions does not fit its directory",
                    spec.name, spec.partitions
                ),
            });
        }
        let opened = open_partitions(cfg, &spec)?;
        out.push((spec, opened));
    }
    Ok(out)
}
