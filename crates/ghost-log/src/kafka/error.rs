//! librdkafka errors mapped onto [`LogError`].

use crate::LogError;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// Maps a Kafka error; `topic` names the topic for "unknown topic" answers.
pub(crate) fn map(e: &KafkaError, topic: &str) -> LogError {
    match e.rdkafka_error_code() {
        Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic) => {
            LogError::UnknownTopic(topic.to_owned())
        }
        Some(RDKafkaErrorCode::MessageSizeTooLarge) => {
            LogError::Backend(format!("record too large for the broker: {e}"))
        }
        _ => LogError::Backend(format!("kafka: {e}")),
    }
}

/// A blocking librdkafka call run off the async runtime failed to complete.
pub(crate) fn joined(e: tokio::task::JoinError) -> LogError {
    LogError::Backend(format!("kafka client task failed: {e}"))
}
