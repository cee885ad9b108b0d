//! `ghost topics apply`: the topic contract in `topics/*.toml`, applied to a log.

use crate::cli::LogArgs;
use crate::log::OpenLog;
use anyhow::Context;
use ghost_log::embedded::FsyncPolicy;
use ghost_log::{LogError, TopicSpec};
use serde::Deserialize;
use std::path::PathBuf;

/// The files of `topics/`, compiled in so the binary carries its own contract.
const FILES: [(&str, &str); 6] = [
    (
        "ghost.captures.v1.toml",
        include_str!("../../../topics/ghost.captures.v1.toml"),
    ),
    (
        "ghost.modes.v1.toml",
        include_str!("../../../topics/ghost.modes.v1.toml"),
    ),
    (
        "ghost.library.v1.toml",
        include_str!("../../../topics/ghost.library.v1.toml"),
    ),
    (
        "ghost.scrubbed.v1.toml",
        include_str!("../../../topics/ghost.scrubbed.v1.toml"),
    ),
    (
        "ghost.config.v1.toml",
        include_str!("../../../topics/ghost.config.v1.toml"),
    ),
    (
        "ghost.deadletter.v1.toml",
        include_str!("../../../topics/ghost.deadletter.v1.toml"),
    ),
];

/// One topic file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicFile {
    pub name: String,
    pub key: String,
    pub partitions: u32,
    pub replication: u32,
    pub cleanup_policy: String,
    pub retention_ms: i64,
    pub schema: String,
}

impl TopicFile {
    pub fn spec(&self) -> TopicSpec {
        TopicSpec {
            name: self.name.clone(),
            partitions: self.partitions,
            compacted: self.cleanup_policy == "compact",
        }
    }
}

pub fn files() -> anyhow::Result<Vec<TopicFile>> {
    FILES
        .iter()
        .map(|(name, text)| {
            toml::from_str(text).with_context(|| format!("topics/{name} is invalid"))
        })
        .collect()
}

pub async fn apply(log_args: LogArgs, data: PathBuf) -> anyhow::Result<()> {
    let log = OpenLog::open(&log_args, &data, FsyncPolicy::Always).await?;
    let shared = log.shared();
    let mut drift = 0;
    for file in files()? {
        let want = file.spec();
        let existed = match shared.topic(&want.name).await {
            Ok(_) => true,
            Err(LogError::UnknownTopic(_)) => false,
            Err(e) => return Err(e).with_context(|| format!("reading topic {}", want.name)),
        };
        match shared.create_topic(&want).await {
            Ok(()) => {}
            Err(LogError::TopicMismatch {
                existing,
                requested,
                ..
            }) => {
                println!(
                    "{}: DRIFT partitions: log has {existing}, topics/ says {requested} (not changed: partition counts never change under a topic)",
                    want.name
                );
                drift += 1;
                continue;
            }
            Err(e) => return Err(e).with_context(|| format!("creating topic {}", want.name)),
        }
        let have = shared.topic(&want.name).await?;
        if have.compacted != want.compacted {
            println!(
                "{}: DRIFT cleanup policy: log is {}, topics/ says {}",
                want.name,
                if have.compacted { "compact" } else { "delete" },
                file.cleanup_policy
            );
            drift += 1;
        } else if existed {
            println!("{}: ok", want.name);
        } else {
            // Replication and retention are broker settings the Log trait does not
            // carry yet; they are reported so an operator can check them.
            println!(
                "{}: created ({} partitions, {}, key {}, schema {}; set replication {} and retention.ms {} on the broker)",
                want.name,
                want.partitions,
                file.cleanup_policy,
                file.key,
                file.schema,
                file.replication,
                file.retention_ms
            );
        }
    }
    log.close().await?;
    if drift > 0 {
        anyhow::bail!("{drift} topic(s) differ from topics/");
    }
    Ok(())
}
