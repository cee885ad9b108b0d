//! Opening the log a command asked for: Kafka (`--log kafka://…`) or the
//! embedded log under the data directory.

use crate::cli::LogArgs;
use anyhow::{Context, bail};
use ghost_log::SharedLog;
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog, FsyncPolicy};
use ghost_log::kafka::{KafkaConfig, KafkaLog};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// An open log and what flushing it on shutdown needs.
pub enum OpenLog {
    Embedded(Arc<EmbeddedLog>),
    Kafka(Arc<KafkaLog>),
}

impl OpenLog {
    pub async fn open(args: &LogArgs, data: &Path, fsync: FsyncPolicy) -> anyhow::Result<Self> {
        match args.log.as_deref() {
            None | Some("") | Some("embedded") => {
                let config = EmbeddedConfig::new(data.join("log")).with_fsync(fsync);
                let log = EmbeddedLog::open(config).await.with_context(|| {
                    format!("cannot open the embedded log under {}", data.display())
                })?;
                Ok(Self::Embedded(log))
            }
            Some(url) if url.starts_with("kafka://") => {
                let config = KafkaConfig::from_url(url)?;
                let log = KafkaLog::connect(config)
                    .await
                    .with_context(|| format!("cannot connect to the log at {url}"))?;
                Ok(Self::Kafka(log))
            }
            Some(other) => bail!(
                "unsupported --log `{other}`: use kafka://host:port, or omit it for the embedded log"
            ),
        }
    }

    pub fn shared(&self) -> SharedLog {
        match self {
            Self::Embedded(l) => l.clone(),
            Self::Kafka(l) => l.clone(),
        }
    }

    /// Makes everything appended so far durable before the process exits.
    pub async fn close(&self) -> anyhow::Result<()> {
        match self {
            Self::Embedded(l) => l.flush().await.context("final log flush failed"),
            Self::Kafka(l) => l
                .flush(Duration::from_secs(10))
                .await
                .context("unacknowledged records at shutdown"),
        }
    }
}
