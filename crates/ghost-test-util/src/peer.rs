//! Upstreams that are not hyper: Python's `http.server` and Node's `http`
//! module, started as real processes on port 0 from the scripts in `peers/`.
//! Both route on the raw request-target, as most real frameworks do.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Which peer server to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerKind {
    /// `peers/upstream.py` on Python's standard-library `http.server`.
    Python,
    /// `peers/upstream.js` on Node's `http` module.
    Node,
}

/// A running peer upstream; killed on drop.
pub struct Peer {
    pub kind: PeerKind,
    pub addr: SocketAddr,
    child: Child,
}

impl Peer {
    pub async fn start(kind: PeerKind) -> Self {
        Self::spawn(kind, &[]).await
    }

    /// Python's `http.server` behind Python's `ssl` module, serving HTTPS with
    /// the PEM certificate chain `cert` and key `key`.
    pub async fn start_tls(cert: &std::path::Path, key: &std::path::Path) -> Self {
        let args = [cert.display().to_string(), key.display().to_string()];
        Self::spawn(PeerKind::Python, &args).await
    }

    async fn spawn(kind: PeerKind, extra: &[String]) -> Self {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/peers");
        let (program, script) = match kind {
            PeerKind::Python => ("python3", "upstream.py"),
            PeerKind::Node => ("node", "upstream.js"),
        };
        let mut child = Command::new(program)
            .arg(format!("{dir}/{script}"))
            .arg("0")
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program} {script}: {e}"));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{script} did not print its port within 30 s"))
            .unwrap()
            .unwrap_or_else(|| panic!("{script} exited before listening"));
        let port: u16 = line
            .strip_prefix("listening on ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("{script} printed `{line}`"));
        Self {
            kind,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Kills the process and waits for it, so nothing answers on its port.
    pub async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }
}
