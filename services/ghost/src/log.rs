//! Opening the log a command asked for: Kafka (`--log kafka://…`) or the
//! embedded log under the data directory.

use crate::cli::LogArgs;
use anyhow::{Context, bail};
use ghost_log::SharedLog;
use ghost_log::embedded::{EmbeddedConfig, EmbeddedLog, FsyncPolicy};
use ghost_log::kafka::{KafkaConfig, KafkaLog};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// An open log and what flushing it on shutdown needs.
pub enum OpenLog {
    Embedded(Arc<EmbeddedLog>),
    Kafka(Arc<KafkaLog>),
}

/// Where the embedded log lives under the data directory, or `None` when
/// `args` selects another backend.
pub fn embedded_dir(args: &LogArgs, data: &Path) -> Option<PathBuf> {
    matches!(args.log.as_deref(), None | Some("" | "embedded")).then(|| data.join("log"))
}

impl OpenLog {
    pub async fn open(args: &LogArgs, data: &Path, fsync: FsyncPolicy) -> anyhow::Result<Self> {
        if let Some(dir) = embedded_dir(args, data) {
            let config = EmbeddedConfig::new(dir).with_fsync(fsync);
            let log = EmbeddedLog::open(config).await.with_context(|| {
                format!("cannot open the embedded log under {}", data.display())
            })?;
            return Ok(Self::Embedded(log));
        }
        match args.log.as_deref().unwrap_or_default() {
            url if url.starts_with("kafka://") => {
                let config = KafkaConfig::from_url(url)?;
                let log = KafkaLog::connect(config)
                    .await
                    .with_context(|| format!("cannot connect to the log at {url}"))?;
                Ok(Self::Kafka(log))
            }
            other => bail!(
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
