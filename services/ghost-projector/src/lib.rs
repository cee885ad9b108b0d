//! ghost-projector: the team-mode library in Postgres, as sink workers on the
//! worker platform.
//!
//! Three inputs, one loop each: [`traffic`] (`ghost.scrubbed.v1`, never the raw
//! captures), [`modes`] (`ghost.modes.v1`) and [`library`]
//! (`ghost.library.v1`). Every batch is one transaction that writes the rows
//! and the consumed offsets together ([`sink`]), and skips what the stored
//! offsets say is already written: a kill at any point and a restart give
//! exactly the same tables. Tenancy is the database's: each tenant's rows are
//! written with the transaction scoped to that tenant.

mod error;
pub mod library;
pub mod modes;
pub mod rebuild;
mod sink;
pub mod traffic;

pub use error::ProjectorError;

use ghost_worker::{Env, WorkerConfig};

/// Connections the projector's three loops share.
const POOL_SIZE: usize = 4;

/// Runs the projector until shutdown: the three loops under one health.
pub async fn run(env: Env) -> Result<(), ProjectorError> {
    let url = env.postgres.clone().ok_or(ProjectorError::NoPostgres)?;
    let pool = ghost_store::connect(&url, POOL_SIZE).await?;
    let config = WorkerConfig::default;
    let traffic = traffic::TrafficProjector::new(pool.clone());
    let modes = modes::ModesProjector::new(pool.clone());
    let library = library::LibraryProjector::new(pool);
    let (t, m, l) = tokio::join!(
        ghost_worker::run(
            env.log.clone(),
            &traffic,
            config(),
            env.shutdown.clone(),
            env.health.part()
        ),
        ghost_worker::run(
            env.log.clone(),
            &modes,
            config(),
            env.shutdown.clone(),
            env.health.part()
        ),
        ghost_worker::run(
            env.log.clone(),
            &library,
            config(),
            env.shutdown.clone(),
            env.health.part()
        ),
    );
    t?;
    m?;
    l?;
    Ok(())
}
