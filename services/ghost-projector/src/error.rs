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
}
