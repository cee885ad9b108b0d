//! Test helpers shared by ghost's integration tests: a real HTTP upstream on port
//! 0 with a mixed set of responses, a small client, and a harness that runs the
//! `ghost` binary as a real process. Test-only code: panics on setup failure.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod broker;
mod client;
pub mod clients;
pub mod otlp;
mod peer;
pub mod postgres;
mod process;
pub mod raw;
pub mod tls;
mod upstream;

pub use broker::Broker;
pub use client::{TestResponse, send};
pub use peer::{Peer, PeerKind};
pub use process::{Ghost, TEST_API_KEY, terminate_within};
pub use upstream::{Upstream, large_body as upstream_large_body};

/// The floor headers with a canary value each, for redaction tests. Written out
/// here on purpose rather than taken from `ghost_model::REDACTION_FLOOR`: a test
/// that reads the list from the code under test could not notice it shrinking.
pub fn canary_headers(canary: &str) -> Vec<(String, String)> {
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
        "x-session-id",
        "x-access-token",
        "x-user-token",
        "x-csrf-token",
        "x-amz-security-token",
        "x-amz-session-token",
        "x-goog-api-key",
        "grpc-metadata-authorization",
        "api-key",
        "token",
    ]
    .iter()
    .map(|n| (n.to_string(), format!("{canary}-{n}")))
    .collect()
}

/// Appends (synced) a global mode change to `ghost.modes.v1`, as the control
/// plane would, for tests that drive a proxy through the log; returns its offset
/// (what `ProxyState::wait_mode_applied` waits for).
pub async fn publish_mode(
    log: &dyn ghost_log::Log,
    id: &str,
    mode: ghost_schema::ModeRecord,
) -> u64 {
    let change = ghost_schema::ModeChangeRecord {
        tenant: "default".into(),
        id: id.into(),
        service: None,
        mode,
        barrier: vec![],
        changed_at_us: 0,
        actor: "test".into(),
    };
    let record = ghost_log::Record {
        key: Some(bytes::Bytes::from_static(b"global")),
        value: Some(bytes::Bytes::from(ghost_schema::encode(&change).unwrap())),
        ..ghost_log::Record::default()
    };
    log.append(
        ghost_topics::MODES.name(),
        record,
        ghost_log::Durability::Synced,
    )
    .await
    .unwrap()
    .offset
}
