//! ghost-proxy: the record/replay proxy.
//!
//! In LEARN it forwards to the service's upstream and publishes every exchange to
//! `ghost.captures.v1` without making the response wait; in MOCK it answers from
//! an in-memory library materialized from that topic, with no network at all; in
//! PASSTHROUGH it forwards and records nothing. Mode changes arrive on
//! `ghost.modes.v1`; LEARN → MOCK passes through TRANSITIONING until the library
//! holds everything recorded before the switch.
//!
//! [`start`] runs it; [`ProxyState`] is what the control plane reads.

mod body;
pub mod config;
mod connect;
mod error;
mod failure;
mod forward;
mod framing;
mod guard;
pub mod intercept;
pub mod journal;
pub mod library;
mod materializer;
pub mod metrics;
pub mod modes;
pub mod origins;
mod outbound;
mod publisher;
mod request;
mod request_stats;
pub mod routing;
mod server;
mod spans;
mod state;
mod threads;
mod upstream;
mod upstream_tls;
mod wire;

pub use config::{ProxyConfig, ServiceConfig, UpstreamTls};
pub use error::ProxyError;
pub use request::{MOCK_HEADER, RESERVED_PREFIX};
pub use server::{RunningProxy, start};
pub use state::ProxyState;
pub use upstream_tls::TlsConfigError;
pub use wire::{mode_from_record, mode_to_record};
