//! `ghost topics apply`: the topic contract in `topics/*.toml`, applied to a log.

use crate::cli::LogArgs;
use crate::log::OpenLog;
use anyhow::Context;
use ghost_log::embedded::FsyncPolicy;
use ghost_log::kafka::KafkaLog;
use ghost_log::{LogError, SharedLog};
use ghost_topics::TopicFile;
use std::path::PathBuf;

pub async fn apply(log_args: LogArgs, data: PathBuf, dry_run: bool) -> anyhow::Result<()> {
    let files = ghost_topics::files()?;
    let absent = crate::log::embedded_dir(&log_args, &data).is_some_and(|dir| !dir.exists());
    if dry_run && absent {
        // Opening would create the log directory; a dry run changes nothing.
        for file in files {
            println!("{}: missing (would be created)", file.name);
        }
        anyhow::bail!(
            "{} difference(s) between topics/ and the log remain (no embedded log under {} yet)",
            files.len(),
            data.display()
        );
    }
    let log = OpenLog::open(&log_args, &data, FsyncPolicy::Always).await?;
    let drift = match &log {
        OpenLog::Kafka(kafka) => {
            let mut drift = 0;
            for file in files {
                drift += kafka_topic(kafka, file, dry_run).await?;
            }
            drift
        }
        OpenLog::Embedded(_) => {
            let shared = log.shared();
            let mut drift = 0;
            for file in files {
                drift += embedded_topic(&shared, file, dry_run).await?;
            }
            println!(
                "embedded log: replication and retention.ms do not apply (one node; records are kept \
                 until compaction replaces them or the data directory is removed)"
            );
            drift
        }
    };
    log.close().await?;
    if drift > 0 {
        anyhow::bail!("{drift} difference(s) between topics/ and the log remain");
    }
    Ok(())
}

/// The topic configs a file owns, as Kafka names and values.
fn owned_configs(file: &TopicFile) -> [(&'static str, String); 2] {
    [
        ("cleanup.policy", file.cleanup_policy.clone()),
        ("retention.ms", file.retention_ms.to_string()),
    ]
}

/// Whether the brokers' value of `key` means what the file asks for.
fn same(key: &str, have: Option<&String>, want: &str) -> bool {
    let Some(have) = have else { return false };
    match key {
        "retention.ms" => have.trim().parse::<i64>().ok() == want.parse::<i64>().ok(),
        _ => have.trim() == want,
    }
}

/// Applies one topic file to Kafka; returns the differences left.
async fn kafka_topic(kafka: &KafkaLog, file: &TopicFile, dry_run: bool) -> anyhow::Result<u32> {
    let want = file.spec();
    let configs = owned_configs(file);
    let Some(have) = kafka
        .describe_topic(&want.name)
        .await
        .with_context(|| format!("describing topic {}", want.name))?
    else {
        if dry_run {
            println!("{}: missing (would be created)", want.name);
            return Ok(1);
        }
        kafka
            .create_topic_with(&want, file.replication, &configs)
            .await
            .with_context(|| format!("creating topic {}", want.name))?;
        println!(
            "{}: created ({} partitions, replication {}, {}, retention.ms {}, key {}, schema {})",
            want.name,
            want.partitions,
            file.replication,
            file.cleanup_policy,
            file.retention_ms,
            file.key,
            file.schema
        );
        return Ok(0);
    };
    let mut drift = 0;
    if have.partitions != want.partitions {
        println!(
            "{}: DRIFT partitions: broker has {}, topics/ says {} (not changed: keys would move between partitions)",
            want.name, have.partitions, want.partitions
        );
        drift += 1;
    }
    if have.replication != file.replication {
        println!(
            "{}: DRIFT replication: broker has {}, topics/ says {} (not changed: that is a partition \
             reassignment, e.g. kafka-reassign-partitions)",
            want.name, have.replication, file.replication
        );
        drift += 1;
    }
    let changes: Vec<(&str, String)> = configs
        .iter()
        .filter(|(k, v)| !same(k, have.effective.get(*k), v))
        .cloned()
        .collect();
    for (k, v) in &changes {
        let was = have.effective.get(*k).map_or("(unset)", String::as_str);
        if dry_run {
            println!(
                "{}: DRIFT {k}: broker has {was}, topics/ says {v}",
                want.name
            );
            drift += 1;
        }
    }
    if !changes.is_empty() && !dry_run {
        drift += alter(kafka, &want.name, &have, &changes).await;
    }
    if drift == 0 {
        println!("{}: ok", want.name);
    }
    Ok(drift)
}

/// Sets `changes` and checks the brokers now report them; returns what is left.
async fn alter(
    kafka: &KafkaLog,
    topic: &str,
    before: &ghost_log::kafka::BrokerTopic,
    changes: &[(&str, String)],
) -> u32 {
    if let Err(error) = kafka.set_topic_configs(topic, changes).await {
        let error = match error {
            LogError::Backend(why) => why,
            other => other.to_string(),
        };
        for (k, v) in changes {
            let was = before.effective.get(*k).map_or("(unset)", String::as_str);
            println!(
                "{topic}: DRIFT {k}: broker has {was}, topics/ says {v} (could not change it: {error})"
            );
        }
        return changes.len() as u32;
    }
    let after = match kafka.describe_topic(topic).await {
        Ok(Some(t)) => t,
        Ok(None) | Err(_) => {
            println!("{topic}: changed, but the brokers could not be asked to confirm it");
            return changes.len() as u32;
        }
    };
    let mut left = 0;
    for (k, v) in changes {
        let was = before.effective.get(*k).map_or("(unset)", String::as_str);
        if same(k, after.effective.get(*k), v) {
            println!("{topic}: updated {k} {was} -> {v}");
        } else {
            let now = after.effective.get(*k).map_or("(unset)", String::as_str);
            println!("{topic}: DRIFT {k}: broker accepted {v} but reports {now}");
            left += 1;
        }
    }
    left
}

/// Applies one topic file to the embedded log; returns the differences left.
async fn embedded_topic(
    shared: &SharedLog,
    file: &TopicFile,
    dry_run: bool,
) -> anyhow::Result<u32> {
    let want = file.spec();
    let existing = match shared.topic(&want.name).await {
        Ok(t) => Some(t),
        Err(LogError::UnknownTopic(_)) => None,
        Err(e) => return Err(e).with_context(|| format!("reading topic {}", want.name)),
    };
    let Some(have) = existing else {
        if dry_run {
            println!("{}: missing (would be created)", want.name);
            return Ok(1);
        }
        shared
            .create_topic(&want)
            .await
            .with_context(|| format!("creating topic {}", want.name))?;
        println!(
            "{}: created ({} partitions, {}, key {}, schema {})",
            want.name, want.partitions, file.cleanup_policy, file.key, file.schema
        );
        return Ok(0);
    };
    let mut drift = 0;
    if have.partitions != want.partitions {
        println!(
            "{}: DRIFT partitions: log has {}, topics/ says {} (not changed: keys would move between partitions)",
            want.name, have.partitions, want.partitions
        );
        drift += 1;
    }
    if have.compacted != want.compacted {
        println!(
            "{}: DRIFT cleanup policy: log is {}, topics/ says {} (the embedded log fixes it at creation)",
            want.name,
            if have.compacted { "compact" } else { "delete" },
            file.cleanup_policy
        );
        drift += 1;
    }
    if drift == 0 {
        println!("{}: ok", want.name);
    }
    Ok(drift)
}
