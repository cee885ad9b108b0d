//! Control plane configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything the control plane needs to run.
#[derive(Debug, Clone)]
pub struct ControlConfig {
    pub listen: SocketAddr,
    /// Where hashed API keys are kept (`<data>/control`).
    pub state_dir: PathBuf,
    /// `GHOST_API_KEY`: becomes the admin key on first boot only.
    pub bootstrap_key: Option<String>,
    /// How long `POST /v1/mode` waits for the proxy to apply the change (and to
    /// finish TRANSITIONING) before answering 202.
    pub mode_wait: Duration,
}

impl ControlConfig {
    pub fn new(listen: SocketAddr, state_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen,
            state_dir: state_dir.into(),
            bootstrap_key: None,
            mode_wait: Duration::from_secs(30),
        }
    }
}
