//! ghost-store: the Postgres side of team mode.
//!
//! - [`migrate`]: the schema in `migrations/` (embedded, applied as the owner
//!   role) and the application role the services connect as: it owns nothing,
//!   is not superuser and cannot bypass row-level security.
//! - [`connect`]: a pool for the application role that refuses a database
//!   whose schema is behind this build.
//! - [`tenant`]: scoping a transaction to one tenant; every tenant table's
//!   policy admits only that tenant's rows, and none when no tenant is set.

mod error;
pub mod migrate;
mod pool;
pub mod tenant;

pub use error::StoreError;
pub use error::is_transient;
pub use migrate::{AppRole, Migrated, latest_version, migrate};
pub use pool::{Pool, connect, pool_error};
