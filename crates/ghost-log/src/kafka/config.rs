//! Kafka backend configuration and the librdkafka settings derived from it.

use crate::LogError;
use rdkafka::ClientConfig;
use std::time::Duration;

/// How to reach the brokers and how to talk to them.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// `host:port[,host:port...]`.
    pub bootstrap: String,
    /// Sent to brokers to name this client in their logs.
    pub client_id: String,
    /// Bound on admin, metadata, watermark and commit calls.
    pub timeout: Duration,
    /// Replication factor of topics this backend creates.
    pub replication: i32,
    /// Extra librdkafka properties, applied last (e.g. `security.protocol`).
    pub overrides: Vec<(String, String)>,
}

impl KafkaConfig {
    pub fn new(bootstrap: impl Into<String>) -> Self {
        Self {
            bootstrap: bootstrap.into(),
            client_id: "ghost".to_owned(),
            timeout: Duration::from_secs(10),
            replication: 1,
            overrides: Vec::new(),
        }
    }

    /// Parses `kafka://host:port[,host:port...]`.
    pub fn from_url(url: &str) -> Result<Self, LogError> {
        let rest = url.strip_prefix("kafka://").ok_or_else(|| {
            LogError::Backend(format!(
                "`{url}` is not a kafka:// URL (expected kafka://host:port)"
            ))
        })?;
        let rest = rest.trim_end_matches('/');
        let valid = !rest.is_empty()
            && rest.split(',').all(|hp| {
                hp.rsplit_once(':')
                    .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
            });
        if !valid {
            return Err(LogError::Backend(format!(
                "`{url}`: expected kafka://host:port[,host:port...]"
            )));
        }
        Ok(Self::new(rest))
    }

    fn base(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap)
            .set("client.id", &self.client_id)
            .set("socket.nagle.disable", "true")
            // A metadata lookup must never create the topic it asks about.
            .set("allow.auto.create.topics", "false")
            .set("topic.metadata.refresh.interval.ms", "10000");
        c
    }

    fn finish(&self, mut c: ClientConfig) -> ClientConfig {
        for (k, v) in &self.overrides {
            c.set(k, v);
        }
        c
    }

    /// Idempotent, acks=all producer; librdkafka's queue is bounded so a slow
    /// broker pushes back instead of buffering without limit.
    pub(crate) fn producer(&self) -> ClientConfig {
        let mut c = self.base();
        c.set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "2")
            .set("queue.buffering.max.messages", "100000")
            .set("queue.buffering.max.kbytes", "262144")
            .set("message.timeout.ms", "60000");
        self.finish(c)
    }

    /// A consumer that reads assigned partitions from explicit offsets and never
    /// commits or stores offsets on its own.
    pub(crate) fn reader(&self) -> ClientConfig {
        let mut c = self.base();
        c.set("group.id", "ghost-reader")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("fetch.wait.max.ms", "20")
            .set("enable.partition.eof", "true");
        self.finish(c)
    }

    /// A consumer used only to store and fetch a group's committed offsets.
    pub(crate) fn group(&self, group: &str) -> ClientConfig {
        let mut c = self.base();
        c.set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false");
        self.finish(c)
    }

    pub(crate) fn admin(&self) -> ClientConfig {
        self.finish(self.base())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kafka_urls() {
        assert_eq!(
            KafkaConfig::from_url("kafka://127.0.0.1:9092")
                .unwrap()
                .bootstrap,
            "127.0.0.1:9092"
        );
        assert_eq!(
            KafkaConfig::from_url("kafka://a:1,b:2/").unwrap().bootstrap,
            "a:1,b:2"
        );
        for bad in [
            "127.0.0.1:9092",
            "kafka://",
            "kafka://host",
            "kafka://host:port",
            "kafka://:9092",
        ] {
            assert!(KafkaConfig::from_url(bad).is_err(), "{bad}");
        }
    }
}
