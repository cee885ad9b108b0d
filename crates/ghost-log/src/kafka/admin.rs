//! Broker-side topic settings for `ghost topics apply`: the replication factor
//! and the topic configs ghost's topic files own (`cleanup.policy`,
//! `retention.ms`).
//!
//! rdkafka exposes only the legacy AlterConfigs call, which replaces a topic's
//! whole set of topic-level overrides: the overrides a topic already has are
//! read first and sent back with ghost's changes, so applying ghost's configs
//! never resets an operator's.

use super::KafkaLog;
use super::error::{joined, map};
use crate::LogError;
use rdkafka::admin::{AdminOptions, AlterConfig, ConfigSource, ResourceSpecifier};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::Producer;
use std::collections::BTreeMap;

/// What the brokers hold for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerTopic {
    pub partitions: u32,
    /// Replicas of the first partition (the topic's replication factor).
    pub replication: u32,
    /// Configs set on the topic itself (not inherited from broker defaults).
    pub overrides: BTreeMap<String, String>,
    /// Every config's value as the brokers apply it, whatever its source.
    pub effective: BTreeMap<String, String>,
    /// Overrides whose values the brokers do not reveal (sensitive ones): a
    /// whole-set alter would erase them, so none is attempted while any exists.
    pub hidden: Vec<String>,
}

impl KafkaLog {
    /// Describes a topic, or `None` when the brokers do not have it.
    pub async fn describe_topic(&self, topic: &str) -> Result<Option<BrokerTopic>, LogError> {
        let Some(replication) = self.replication_factor(topic).await? else {
            return Ok(None);
        };
        let Some(partitions) = self.partitions(topic).await? else {
            return Ok(None);
        };
        let opts = AdminOptions::new().request_timeout(Some(self.config.timeout));
        let results = self
            .admin
            .describe_configs([&ResourceSpecifier::Topic(topic)], &opts)
            .await
            .map_err(|e| LogError::Backend(format!("kafka describe configs of {topic}: {e}")))?;
        let mut out = BrokerTopic {
            partitions,
            replication,
            overrides: BTreeMap::new(),
            effective: BTreeMap::new(),
            hidden: Vec::new(),
        };
        for result in results {
            let resource = result.map_err(|code| {
                LogError::Backend(format!("kafka describe configs of {topic}: {code}"))
            })?;
            for e in resource.entries {
                let own = e.source == ConfigSource::DynamicTopic;
                match e.value {
                    Some(v) => {
                        if own {
                            out.overrides.insert(e.name.clone(), v.clone());
                        }
                        out.effective.insert(e.name, v);
                    }
                    None if own && e.is_sensitive => out.hidden.push(e.name),
                    None => {}
                }
            }
        }
        Ok(Some(out))
    }

    /// Sets `set` on an existing topic and keeps every other override it has.
    pub async fn set_topic_configs(
        &self,
        topic: &str,
        set: &[(&str, String)],
    ) -> Result<(), LogError> {
        let current = self
            .describe_topic(topic)
            .await?
            .ok_or_else(|| LogError::UnknownTopic(topic.to_owned()))?;
        if !current.hidden.is_empty() {
            return Err(LogError::Backend(format!(
                "topic {topic} has sensitive overrides ({}) the brokers do not reveal; \
                 altering its configs would erase them, so nothing was changed",
                current.hidden.join(", ")
            )));
        }
        let merged = merge_overrides(current.overrides, set);
        let mut alter = AlterConfig::new(ResourceSpecifier::Topic(topic));
        for (k, v) in &merged {
            alter = alter.set(k, v);
        }
        let opts = AdminOptions::new().request_timeout(Some(self.config.timeout));
        let results = self
            .admin
            .alter_configs([&alter], &opts)
            .await
            .map_err(|e| match e {
                KafkaError::AdminOp(RDKafkaErrorCode::UnsupportedFeature) => LogError::Backend(
                    "the broker does not support changing topic configs (AlterConfigs); \
                     set them with the broker's own tools"
                        .to_owned(),
                ),
                _ => LogError::Backend(format!("kafka alter configs of {topic}: {e}")),
            })?;
        for r in results {
            if let Err((_, code)) = r {
                return Err(LogError::Backend(format!(
                    "kafka alter configs of {topic}: {code}"
                )));
            }
        }
        // Compaction is cached per topic; the next read of the spec asks again.
        super::lock(&self.specs).remove(topic);
        Ok(())
    }

    /// The replication factor from metadata, or `None` for an unknown topic.
    async fn replication_factor(&self, topic: &str) -> Result<Option<u32>, LogError> {
        let p = self.producer.clone();
        let (name, timeout) = (topic.to_owned(), self.config.timeout);
        let md =
            tokio::task::spawn_blocking(move || p.client().fetch_metadata(Some(&name), timeout))
                .await
                .map_err(joined)?
                .map_err(|e| map(&e, topic))?;
        Ok(md
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .and_then(|t| t.partitions().first())
            .map(|p| p.replicas().len() as u32))
    }
}

/// The whole set of overrides to send: the topic's own, with `set` applied.
fn merge_overrides(
    mut current: BTreeMap<String, String>,
    set: &[(&str, String)],
) -> BTreeMap<String, String> {
    for (k, v) in set {
        current.insert((*k).to_owned(), v.clone());
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_other_overrides_and_replaces_ours() {
        let current = BTreeMap::from([
            ("retention.ms".to_owned(), "1000".to_owned()),
            ("max.message.bytes".to_owned(), "2000000".to_owned()),
        ]);
        let merged = merge_overrides(
            current,
            &[
                ("retention.ms", "604800000".to_owned()),
                ("cleanup.policy", "delete".to_owned()),
            ],
        );
        assert_eq!(
            merged,
            BTreeMap::from([
                ("cleanup.policy".to_owned(), "delete".to_owned()),
                ("max.message.bytes".to_owned(), "2000000".to_owned()),
                ("retention.ms".to_owned(), "604800000".to_owned()),
            ])
        );
    }
}
