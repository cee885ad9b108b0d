//! Connection pools for the application role.

use crate::error::StoreError;
use deadpool_postgres::{Manager, ManagerConfig, RecyclingMethod};
use tokio_postgres::NoTls;

pub use deadpool_postgres::Pool;

/// A pool of at most `size` connections to `url`, after checking that the
/// database's schema is exactly this build's (else: run `ghost migrate`).
pub async fn connect(url: &str, size: usize) -> Result<Pool, StoreError> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| StoreError::Url(e.to_string()))?;
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(size.max(1))
        .build()
        .map_err(|e| StoreError::Pool(e.to_string()))?;
    let client = pool.get().await.map_err(pool_error)?;
    crate::migrate::check_current(&client).await?;
    Ok(pool)
}

/// A pool checkout failure: connecting failed, or the pool is closed.
pub fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(source) => StoreError::Connect(source),
        other => StoreError::Pool(other.to_string()),
    }
}
