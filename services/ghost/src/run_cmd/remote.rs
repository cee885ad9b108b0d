//! A run against a ghost that is already running, through its control plane:
//! `GET /v1/proxy` says where the proxy is and which CA it mints with, a run
//! window (`/v1/runs`) collects what the proxy answered while the command ran,
//! and the global mode is switched for the run and restored after it.

use super::Outcome;
use crate::cli::RunArgs;
use crate::client::call;
use anyhow::{Context, bail};
use ghost_control::{ProxyInfo, RunReport};
use ghost_model::Mode;
use http::{Method, StatusCode};
use std::time::{Duration, Instant};

const MODE_WAIT: Duration = Duration::from_secs(60);

struct Control<'a> {
    base: &'a str,
    key: Option<&'a str>,
}

impl Control<'_> {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let url = format!("{}{path}", self.base);
        let (status, body) = call(method.clone(), &url, self.key, body).await?;
        if !status.is_success() {
            return Err(crate::mode_cmd::fail(status, &body))
                .with_context(|| format!("{method} {path}"));
        }
        Ok(body)
    }

    async fn global_mode(&self) -> anyhow::Result<(Mode, Mode)> {
        let body = self.call(Method::GET, "/v1/mode", None).await?;
        let field = |name: &str| -> anyhow::Result<Mode> {
            body.get(name)
                .and_then(|v| v.as_str())
                .and_then(|m| m.parse().ok())
                .with_context(|| format!("GET /v1/mode: no `{name}` in {body}"))
        };
        Ok((field("mode")?, field("target")?))
    }

    /// Sets the global mode and waits until the proxy serves in it.
    async fn set_mode(&self, mode: Mode) -> anyhow::Result<()> {
        let body = serde_json::json!({ "mode": mode.to_string() });
        let (status, reply) = call(
            Method::POST,
            &format!("{}/v1/mode", self.base),
            self.key,
            Some(body),
        )
        .await?;
        match status {
            StatusCode::OK => return Ok(()),
            StatusCode::ACCEPTED => {}
            _ => return Err(crate::mode_cmd::fail(status, &reply)).context("POST /v1/mode"),
        }
        let deadline = Instant::now() + MODE_WAIT;
        while Instant::now() < deadline {
            if self.global_mode().await?.0 == mode {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the running ghost did not reach {mode} within {MODE_WAIT:?}")
    }
}

pub(super) async fn run(args: RunArgs, base: &str, mode: Mode) -> anyhow::Result<Outcome> {
    refuse_local_flags(&args)?;
    let control = Control {
        base: base.trim_end_matches('/'),
        key: args.api_key.as_deref(),
    };
    let info: ProxyInfo =
        serde_json::from_value(control.call(Method::GET, "/v1/proxy", None).await?)
            .context("GET /v1/proxy: unexpected answer")?;
    let Some(proxy_url) = info.proxy_url else {
        bail!(
            "the control plane at {base} does not run next to a proxy; point --control-url at `ghost up`"
        );
    };
    // The CA travels as PEM so the command can trust it without sharing a disk.
    let ca_file = match &info.ca_cert {
        Some(pem) => {
            let mut f = tempfile::Builder::new()
                .prefix("ghost-ca-")
                .suffix(".crt")
                .tempfile()
                .context("cannot write the CA certificate for the command")?;
            std::io::Write::write_all(&mut f, pem.as_bytes())?;
            Some(f)
        }
        None => {
            eprintln!(
                "ghost: the running ghost does not intercept TLS; HTTPS requests pass through it unrecorded"
            );
            None
        }
    };
    let (_, previous) = control.global_mode().await?;
    let opened = control.call(Method::POST, "/v1/runs", None).await?;
    let id = opened
        .get("id")
        .and_then(serde_json::Value::as_u64)
        .with_context(|| format!("POST /v1/runs: no id in {opened}"))?;
    let outcome = async {
        control.set_mode(mode).await?;
        super::command::run(
            &args.command,
            &proxy_url,
            ca_file.as_ref().map(|f| f.path()),
        )
        .await
    }
    .await;
    let report = control
        .call(Method::DELETE, &format!("/v1/runs/{id}"), None)
        .await
        .and_then(|v| {
            serde_json::from_value::<RunReport>(v).context("DELETE /v1/runs: unexpected answer")
        });
    if previous != mode {
        match control.set_mode(previous).await {
            Ok(()) => eprintln!("ghost: mode restored to {previous}"),
            Err(error) => eprintln!("ghost: could not restore the mode to {previous}: {error:#}"),
        }
    }
    let status = outcome?;
    let report = report?;
    Ok(Outcome {
        status,
        served: report.served,
        dropped: report.dropped,
    })
}

/// Flags that configure an in-process ghost mean nothing to a running one.
fn refuse_local_flags(args: &RunArgs) -> anyhow::Result<()> {
    let c = &args.common;
    let given = [
        ("--upstream", c.upstream.is_some()),
        ("--log", c.log.log.is_some()),
        ("--data", c.data.is_some()),
        ("--config", c.config.is_some()),
        ("--proxy-addr", c.proxy_addr.is_some()),
        ("--tls-intercept", c.tls_intercept.is_some()),
        ("--ca-cert", c.ca_cert.is_some()),
        ("--allow-hosts", c.allow_hosts.is_some()),
    ];
    if let Some((flag, _)) = given.iter().find(|(_, set)| *set) {
        bail!(
            "{flag} configures a ghost started for the run; with --control-url the running ghost's own settings apply"
        );
    }
    Ok(())
}
