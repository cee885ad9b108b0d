//! Consumer group offsets: one JSON file per group under `<dir>/groups/`, replaced
//! atomically on every commit, with the whole set cached in memory.

use super::fsutil::{self, io_err};
use crate::LogError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// The content of `<group>.json`: topic → partition → next offset.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    topics: BTreeMap<String, BTreeMap<u32, u64>>,
}

/// All groups' committed positions.
#[derive(Debug)]
pub(crate) struct GroupOffsets {
    dir: PathBuf,
    /// One async lock per group serializes that group's file rewrites (so the last
    /// rename carries the newest state) without making groups wait for each other.
    groups: Mutex<HashMap<String, Arc<tokio::sync::Mutex<GroupFile>>>>,
}

impl GroupOffsets {
    /// Loads every group file under `dir` (created if missing). Blocking.
    pub(crate) fn load(dir: PathBuf) -> Result<GroupOffsets, LogError> {
        fsutil::create_dir(&dir)?;
        let mut groups = HashMap::new();
        for entry in fs::read_dir(&dir).map_err(io_err("list directory", &dir))? {
            let path = entry.map_err(io_err("list directory", &dir))?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some(group) = name.strip_suffix(".json") {
                let file = read_group(&path)?;
                groups.insert(group.to_owned(), Arc::new(tokio::sync::Mutex::new(file)));
            } else if name.ends_with(".tmp") {
                // A commit interrupted before its rename; the previous file stands.
                fs::remove_file(&path).map_err(io_err("remove stale temp file", &path))?;
            }
        }
        Ok(GroupOffsets {
            dir,
            groups: Mutex::new(groups),
        })
    }

    fn group(&self, group: &str) -> Arc<tokio::sync::Mutex<GroupFile>> {
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(groups.entry(group.to_owned()).or_default())
    }

    pub(crate) async fn committed(&self, group: &str, topic: &str, partition: u32) -> Option<u64> {
        // Looked up without inserting, so queries for unknown groups leave no trace.
        let state = self
            .groups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(group)
            .cloned()?;
        let state = state.lock().await;
        state
            .topics
            .get(topic)
            .and_then(|p| p.get(&partition))
            .copied()
    }

    /// Stores the position durably before updating the cache, so a reader never sees
    /// a position that a crash could take back.
    pub(crate) async fn commit(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
        next: u64,
    ) -> Result<(), LogError> {
        let state = self.group(group);
        let mut state = state.lock().await;
        let mut updated = state.clone();
        updated
            .topics
            .entry(topic.to_owned())
            .or_default()
            .insert(partition, next);
        let bytes = serde_json::to_vec_pretty(&updated)
            .map_err(|e| LogError::Backend(format!("encoding offsets of group `{group}`: {e}")))?;
        let path = self.dir.join(format!("{group}.json"));
        tokio::task::spawn_blocking(move || fsutil::write_atomic(&path, &bytes))
            .await
            .map_err(|e| LogError::Backend(format!("offset commit task failed: {e}")))??;
        *state = updated;
        Ok(())
    }
}

fn read_group(path: &Path) -> Result<GroupFile, LogError> {
    let bytes = fs::read(path).map_err(io_err("read group offsets", path))?;
    serde_json::from_slice(&bytes).map_err(|e| LogError::Corrupt {
        path: path.display().to_string(),
        detail: format!("invalid group offsets file: {e}"),
    })
}
