//! ghost-worker: the platform every log consumer runs on.
//!
//! - [`worker`]: the [`Worker`] trait (a typed input topic and `handle_batch`)
//!   and the one loop (poll → decode → handle → make outputs durable →
//!   commit): undecodable and rejected records are dead-lettered, a transient
//!   failure pauses and backs off instead.
//! - [`follower`]: table followers, for state every instance needs whole.
//! - [`host`]: runs registered workers, serves `/healthz`, `/readyz` and
//!   `/metrics`, and owns shutdown.
//! - [`shutdown`]: signal → drain → one deadline.
//! - [`health`]: what a worker reports to the admin endpoint.

mod admin;
mod durable;
pub mod follower;
pub mod health;
pub mod host;
pub mod shutdown;
mod span;
pub mod worker;

pub use follower::{Batch, Entry, Follower, TableFollower};
pub use health::{Health, HealthState};
pub use host::{Ended, Env, Host, HostError, Spec, WorkerFuture};
pub use shutdown::{Shutdown, ShutdownTrigger, Signals};
pub use worker::{
    Handled, Input, Output, Rejected, Transient, Worker, WorkerConfig, WorkerError, run,
};

/// Metric names (constant; labels `worker`, `outcome`, `partition`).
pub mod metric_names {
    /// Records handled, by outcome: `ok`, `retried` (in a batch that failed
    /// transiently, per attempt), `dead_lettered`.
    pub const RECORDS_TOTAL: &str = "ghost_worker_records_total";
    /// Batches that failed transiently and were retried.
    pub const BATCH_RETRIES_TOTAL: &str = "ghost_worker_batch_retries_total";
    /// End offset minus committed offset, per assigned partition.
    pub const LAG: &str = "ghost_worker_lag";
}
