//! Why the projector stopped.

/// A projector failure.
#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    #[error("the projector needs --postgres URL (the application role `ghost migrate` created)")]
    NoPostgres,
    #[error("projector: {0}")]
    Store(#[from] ghost_store::StoreError),
    #[error(transparent)]
    Worker(#[from] ghost_worker::WorkerError),
    #[error("projector: reading the log: {0}")]
    Log(ghost_log::LogError),
    #[error("projector: a loop stopped before the rebuild finished")]
    Stopped,
}
