//! Runs the real `ghost` binary (`ghost up`) as a child process.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The API key tests boot ghost with.
pub const TEST_API_KEY: &str = "test-admin-key-0123456789";

/// A running `ghost up`.
pub struct Ghost {
    pub proxy: SocketAddr,
    /// The TLS listener, when interception is on.
    pub tls: Option<SocketAddr>,
    pub control: SocketAddr,
    /// The admin endpoint (/healthz, /readyz, /metrics).
    pub admin: Option<SocketAddr>,
    pub data: PathBuf,
    child: Child,
}

impl Ghost {
    /// Starts `ghost up --data DIR` on port 0 with `extra` flags and waits until it
    /// prints both listen addresses (it is ready then).
    pub async fn start(bin: &Path, data: &Path, extra: &[&str]) -> Self {
        Self::start_with_env(bin, data, extra, &[]).await
    }

    /// [`Ghost::start`] with extra environment variables.
    pub async fn start_with_env(
        bin: &Path,
        data: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let mut args = vec!["up", "--control-addr", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        Self::spawn(bin, data, &args, env, true).await
    }

    /// Starts `ghost proxy --data DIR` (no control plane; `control` is unset).
    pub async fn start_proxy(bin: &Path, data: &Path, extra: &[&str]) -> Self {
        let mut args = vec!["proxy"];
        args.extend_from_slice(extra);
        Self::spawn(bin, data, &args, &[], false).await
    }

    async fn spawn(
        bin: &Path,
        data: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        with_control: bool,
    ) -> Self {
        let mut child = Command::new(bin)
            .args(&args[..1])
            .arg("--data")
            .arg(data)
            .args(["--proxy-addr", "127.0.0.1:0"])
            .args(&args[1..])
            .env("GHOST_API_KEY", TEST_API_KEY)
            .env("GHOST_LOG_LEVEL", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn ghost");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let (mut proxy, mut control, mut tls, mut admin) = (None, None, None, None);
        let read = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(a) = line.strip_prefix("ghost proxy listening on http://") {
                    proxy = Some(a.parse().unwrap());
                }
                if let Some(a) = line.strip_prefix("ghost TLS listening on https://") {
                    tls = Some(a.parse().unwrap());
                }
                if let Some(a) = line.strip_prefix("ghost control listening on http://") {
                    control = Some(a.parse().unwrap());
                }
                if let Some(a) = line.strip_prefix("ghost admin listening on http://") {
                    admin = Some(a.parse().unwrap());
                }
                if proxy.is_some() && admin.is_some() && (control.is_some() || !with_control) {
                    break;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(60), read)
            .await
            .expect("ghost did not start in 60 s");
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            proxy: proxy.expect("proxy address printed"),
            tls,
            control: control.unwrap_or_else(|| "0.0.0.0:0".parse().unwrap()),
            admin,
            data: data.to_path_buf(),
            child,
        }
    }

    pub fn proxy_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.proxy)
    }

    pub fn control_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.control)
    }

    /// `POST /v1/mode` and checks it succeeded.
    pub async fn set_mode(&self, mode: &str, service: Option<&str>) -> serde_json::Value {
        let url = match service {
            Some(s) => self.control_url(&format!("/v1/mode?service={s}")),
            None => self.control_url("/v1/mode"),
        };
        let body = format!(r#"{{"mode":"{mode}"}}"#);
        let r = crate::send(
            http::Method::POST,
            &url,
            &[("x-api-key", TEST_API_KEY)],
            body,
            false,
        )
        .await
        .unwrap();
        assert_eq!(
            r.status,
            http::StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()
    }

    /// SIGKILL: no shutdown, no flush.
    pub async fn kill9(mut self) {
        self.child.kill().await.unwrap();
    }

    /// SIGTERM, and the process must exit cleanly within `deadline` (see
    /// [`terminate_within`]). Returns how long it took.
    pub async fn stop_within(mut self, deadline: Duration) -> Duration {
        terminate_within(&mut self.child, deadline).await
    }

    /// SIGTERM and wait for a clean exit.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
        }
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("ghost did not stop within 30 s")
            .unwrap();
        assert!(status.success(), "ghost exited with {status}");
    }
}

/// SIGTERM, and `child` must exit cleanly within `deadline` (plus 2 s of
/// scheduling slack); it is SIGKILLed and the test fails otherwise. Returns
/// how long it took.
pub async fn terminate_within(child: &mut Child, deadline: Duration) -> Duration {
    let started = std::time::Instant::now();
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
    }
    let waited = tokio::time::timeout(deadline + Duration::from_secs(2), child.wait()).await;
    let Ok(status) = waited else {
        let _ = child.kill().await;
        panic!("still running {deadline:?} after SIGTERM: killed");
    };
    let status = status.unwrap();
    assert!(status.success(), "exited with {status}");
    started.elapsed()
}
