//! Errors every log backend reports.

/// Why a log operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("topic `{0}` does not exist")]
    UnknownTopic(String),
    #[error("partition {partition} does not exist in topic `{topic}`")]
    UnknownPartition { topic: String, partition: u32 },
    #[error("topic `{topic}` already exists with {existing} partitions, not {requested}")]
    TopicMismatch {
        topic: String,
        existing: u32,
        requested: u32,
    },
    #[error("invalid topic name `{0}`: use letters, digits, `.`, `_` and `-`")]
    InvalidTopicName(String),
    #[error("invalid consumer group name `{0}`: use letters, digits, `.`, `_` and `-`")]
    InvalidGroupName(String),
    #[error("record of {size} bytes exceeds the limit of {limit} bytes")]
    RecordTooLarge { size: usize, limit: usize },
    #[error("log is shutting down")]
    Closed,
    #[error("corrupt log data in {path}: {detail}")]
    Corrupt { path: String, detail: String },
    #[error("log I/O failed during {operation} on {path}: {source}")]
    Io {
        operation: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("log directory {0} is in use by another open log")]
    Locked(String),
    #[error("invalid partition count {partitions} for topic `{topic}`: must be at least 1")]
    InvalidPartitionCount { topic: String, partitions: u32 },
    #[error("log backend error: {0}")]
    Backend(String),
}

impl LogError {
    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, LogError::Io { .. } | LogError::Backend(_))
    }
}
