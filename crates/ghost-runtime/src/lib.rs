//! ghost-runtime: what every log consumer shares.
//!
//! - [`worker`]: the one worker loop (poll → handle → make outputs durable →
//!   commit), with retries classified in [`HandleError`], a dead-letter topic for
//!   records that can never be handled, and lag/throughput metrics.
//! - [`shutdown`]: signal → drain → deadline.
//! - [`health`]: what a worker reports to a health endpoint.

pub mod health;
pub mod shutdown;
mod span;
pub mod worker;

pub use health::{Health, HealthState};
pub use shutdown::Shutdown;
pub use worker::{HandleError, Handler, Output, WorkerConfig, WorkerError, run_worker};

/// Metric names (constant; labels `worker`, `outcome`, `partition`).
pub mod metric_names {
    /// Records handled, by outcome: `ok`, `retried`, `dead_lettered`.
    pub const RECORDS_TOTAL: &str = "ghost_worker_records_total";
    /// End offset minus committed offset, per assigned partition.
    pub const LAG: &str = "ghost_worker_lag";
}
