//! Shared pieces of ghost's load tests (`loadtests/run.sh`): the fixed JSON bodies
//! the bare server returns, a small pooled HTTP client, and a handle on a
//! `ghost up` child process (start-up time, resident memory, graceful stop).

use anyhow::{Context, anyhow, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Every body [`user_body`] builds is padded to this many bytes (ids up to 10 digits;
/// longer ids give longer bodies).
pub const BODY_LEN: usize = 300;

/// The id used for paths that carry none (`/`, `/health`, ...).
pub const DEFAULT_ID: &str = "42";

/// Admin key the load tests give ghost at first boot of each data directory.
pub const API_KEY: &str = "loadtest-admin-key-0123456789";

/// The JSON body for user `id`: the id appears as a number (`"id":42`) and as a
/// whole string value (`"account_id":"42"`), so smart swap has something to swap.
/// [`BODY_LEN`] bytes for ids of up to 10 digits (longer ids: longer, still fixed per
/// id); non-numeric ids (or over 20 digits) fall back to [`DEFAULT_ID`].
pub fn user_body(id: &str) -> Bytes {
    let id = if !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()) {
        id
    } else {
        DEFAULT_ID
    };
    let head = format!(
        concat!(
            r#"{{"id":{id},"account_id":"{id}","name":"Ada Lovelace","email":"ada@example.com","#,
            r#""role":"admin","active":true,"created_at":"2024-01-01T00:00:00Z","#,
            r#""tags":["bench","ghost","loadtest"],"address":{{"street":"12 Analytical Engine Way","#,
            r#""city":"London","postcode":"N1 9GU","country":"GB"}},"pad":""#
        ),
        id = id
    );
    let tail = "\"}";
    let pad = BODY_LEN.saturating_sub(head.len() + tail.len());
    let mut s = String::with_capacity(BODY_LEN);
    s.push_str(&head);
    s.extend(std::iter::repeat_n('.', pad));
    s.push_str(tail);
    Bytes::from(s)
}

/// The id in a `/users/{id}` path (query ignored), if the path has that shape.
pub fn user_id(path: &str) -> Option<&str> {
    let path = path.split('?').next().unwrap_or(path);
    let id = path.strip_prefix("/users/")?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

/// Pooled HTTP/1.1 client with TCP_NODELAY.
pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A client keeping up to `idle` idle connections per host.
pub fn http_client(idle: usize) -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(idle)
        .build(connector)
}

/// A buffered response.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// A header's value as text ("" when absent or not text).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// Sends one request and buffers the whole response.
pub async fn send(
    client: &HttpClient,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> anyhow::Result<Reply> {
    let mut req = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(HeaderName::try_from(*k)?, HeaderValue::try_from(*v)?);
    }
    let req = req.body(Full::new(body))?;
    let resp = client
        .request(req)
        .await
        .with_context(|| format!("request to {url} failed"))?;
    let (parts, body) = resp.into_parts();
    let body = body
        .collect()
        .await
        .with_context(|| format!("reading the body from {url}"))?
        .to_bytes();
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

/// `GET url`.
pub async fn get(client: &HttpClient, url: &str) -> anyhow::Result<Reply> {
    send(client, Method::GET, url, &[], Bytes::new()).await
}

/// Switches ghost's global mode through the control plane (waits until applied).
pub async fn set_mode(client: &HttpClient, control: SocketAddr, mode: &str) -> anyhow::Result<()> {
    let url = format!("http://{control}/v1/mode");
    let body = Bytes::from(format!(r#"{{"mode":"{mode}"}}"#));
    let reply = send(
        client,
        Method::POST,
        &url,
        &[("x-api-key", API_KEY), ("content-type", "application/json")],
        body,
    )
    .await?;
    if reply.status != StatusCode::OK {
        bail!(
            "POST {url} {mode} answered {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }
    Ok(())
}

/// A value of a Prometheus counter/gauge in ghost's `/metrics` text (summed over
/// label sets), 0 when absent.
pub fn metric_value(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let rest = l.strip_prefix(name)?;
            if !(rest.starts_with(' ') || rest.starts_with('{')) {
                return None;
            }
            l.rsplit(' ').next()?.parse::<f64>().ok()
        })
        .sum()
}

/// Resident memory of a process, from `/proc/PID/status`.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// VmRSS in KiB.
    pub rss_kib: u64,
    /// VmHWM (peak RSS) in KiB.
    pub hwm_kib: u64,
}

/// Reads VmRSS and VmHWM of `pid`.
pub fn memory(pid: u32) -> anyhow::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let field = |name: &str| -> anyhow::Result<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| anyhow!("no {name} in /proc/{pid}/status"))
    };
    Ok(Memory {
        rss_kib: field("VmRSS:")?,
        hwm_kib: field("VmHWM:")?,
    })
}

/// A running `ghost up`.
pub struct Ghost {
    child: Child,
    pid: u32,
    /// Proxy address.
    pub proxy: SocketAddr,
    /// Control plane address.
    pub control: SocketAddr,
    /// From spawning the process to the `ghost proxy listening` line (the proxy
    /// prints it only once the whole log is applied to the library).
    pub startup: Duration,
}

impl std::fmt::Debug for Ghost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ghost")
            .field("pid", &self.pid)
            .field("proxy", &self.proxy)
            .field("control", &self.control)
            .finish_non_exhaustive()
    }
}

fn addr_after(line: &str, prefix: &str) -> Option<anyhow::Result<SocketAddr>> {
    let rest = line.strip_prefix(prefix)?;
    let rest = rest.trim().trim_start_matches("http://");
    Some(
        rest.parse()
            .with_context(|| format!("bad address in `{line}`")),
    )
}

impl Ghost {
    /// Starts `ghost up` on `data` (ports picked by the OS); its stderr goes to
    /// `log`. Returns once both listening lines were printed.
    pub async fn start(
        bin: &Path,
        data: &Path,
        upstream: &str,
        log: &Path,
    ) -> anyhow::Result<Self> {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot open {}", log.display()))?;
        let started = Instant::now();
        let mut child = Command::new(bin)
            .arg("up")
            .arg("--data")
            .arg(data)
            .arg("--upstream")
            .arg(upstream)
            .arg("--proxy-addr")
            .arg("127.0.0.1:0")
            .arg("--control-addr")
            .arg("127.0.0.1:0")
            .env("GHOST_API_KEY", API_KEY)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let pid = child.id().ok_or_else(|| anyhow!("ghost exited at once"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("no stdout pipe"))?;
        let mut lines = BufReader::new(stdout).lines();
        let mut proxy = None;
        let mut control = None;
        let mut startup = Duration::ZERO;
        let deadline = Duration::from_secs(600);
        while proxy.is_none() || control.is_none() {
            let line = tokio::time::timeout(deadline, lines.next_line())
                .await
                .context("ghost did not print its addresses in time")??
                .ok_or_else(|| {
                    anyhow!(
                        "ghost exited before printing its addresses (see {})",
                        log.display()
                    )
                })?;
            if let Some(a) = addr_after(&line, "ghost proxy listening on") {
                startup = started.elapsed();
                proxy = Some(a?);
            } else if let Some(a) = addr_after(&line, "ghost control listening on") {
                control = Some(a?);
            }
        }
        // Keep draining stdout so ghost never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            pid,
            proxy: proxy.ok_or_else(|| anyhow!("no proxy address"))?,
            control: control.ok_or_else(|| anyhow!("no control address"))?,
            startup,
        })
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Current resident memory.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        memory(self.pid)
    }

    /// SIGTERM (graceful: drains and flushes the log), then waits for the exit.
    pub async fn stop(mut self) -> anyhow::Result<ExitStatus> {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .await
            .context("cannot run kill")?;
        if !status.success() {
            bail!("kill -TERM {} failed", self.pid);
        }
        match tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await {
            Ok(exit) => Ok(exit?),
            Err(_) => {
                self.child.kill().await?;
                bail!("ghost did not stop within 60 s of SIGTERM; killed it")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_a_fixed_length_and_carry_the_id() {
        for id in ["1", "42", "99", "100000", "1234567890"] {
            let b = user_body(id);
            assert_eq!(b.len(), BODY_LEN, "id {id}");
            let text = std::str::from_utf8(&b).unwrap_or_default();
            assert!(text.starts_with(&format!(r#"{{"id":{id},"account_id":"{id}","#)));
            assert!(text.ends_with("\"}"));
        }
        assert_eq!(user_body("abc"), user_body(DEFAULT_ID));
        let long = user_body("12345678901234567890");
        assert_eq!(long.len(), BODY_LEN + 20);
        assert_eq!(long, user_body("12345678901234567890"));
    }

    #[test]
    fn user_ids_come_from_users_paths_only() {
        assert_eq!(user_id("/users/99"), Some("99"));
        assert_eq!(user_id("/users/99?x=1"), Some("99"));
        assert_eq!(user_id("/users/"), None);
        assert_eq!(user_id("/users/1/posts"), None);
        assert_eq!(user_id("/"), None);
    }

    #[test]
    fn metric_values_are_summed_over_labels() {
        let text = "# HELP x\nx_total{a=\"1\"} 2\nx_total{a=\"2\"} 3\nx_totally 9\nx_total 1\n";
        assert!((metric_value(text, "x_total") - 6.0).abs() < f64::EPSILON);
        assert!(metric_value(text, "missing").abs() < f64::EPSILON);
    }
}
