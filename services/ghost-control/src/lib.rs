//! ghost-control: the control plane API.
//!
//! Every state change it makes is a record on the log first (a mode change goes
//! to `ghost.modes.v1`); what it reports comes from a [`StateView`] (in `ghost up`
//! the proxy's own in-memory state). All routes under `/v1` need `X-API-Key`;
//! every error is JSON `{ "error": ..., "detail": ... }` with a fitting status.

mod auth;
mod config;
mod error;
pub mod mode_change;
mod routes;
mod runs;
mod scrub;
mod server;
mod view;

pub use auth::{ApiKeys, BootstrapOutcome};
pub use config::ControlConfig;
pub use error::{ApiError, ControlError};
pub use routes::{AppState, router};
pub use server::{RunningControl, start};
pub use view::{MockInfo, ModeInfo, ProxyInfo, RunEntry, RunReport, ServiceInfo, StateView};
