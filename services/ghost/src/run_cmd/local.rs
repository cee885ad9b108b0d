//! A run with ghost in this process: started for the command, stopped after.

use super::Outcome;
use crate::cli::{RunArgs, TlsIntercept};
use crate::up::{Prepared, prepare};
use anyhow::{Context, bail};
use ghost_model::Mode;
use std::time::Duration;

const MODE_WAIT: Duration = Duration::from_secs(60);
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// `NAME=URL` of `--service-map`.
fn parse_service_map(items: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((name, url)) if !name.is_empty() && !url.is_empty() => {
                Ok((name.trim().to_owned(), url.trim().to_owned()))
            }
            _ => bail!(
                "--service-map `{item}`: expected NAME=URL, e.g. stripe=https://api.stripe.com"
            ),
        })
        .collect()
}

/// Starts ghost in `mode`, runs the command through it, stops ghost.
pub(super) async fn run(args: RunArgs, mode: Mode) -> anyhow::Result<Outcome> {
    let RunArgs {
        mut common,
        command,
        service_map,
        ..
    } = args;
    common.extra_services = parse_service_map(&service_map)?;
    common.proxy_addr = common.proxy_addr.or(Some(([127, 0, 0, 1], 0).into()));
    // HTTPS is the common case: intercept unless told otherwise.
    common.tls_intercept = common.tls_intercept.or(Some(TlsIntercept::Lax));
    let Prepared {
        log,
        mut proxy,
        telemetry,
        ..
    } = prepare(&common).await?;
    proxy.intercept.tls_listen = None;
    let running = ghost_proxy::start(proxy, log.shared())
        .await
        .context("cannot start the proxy")?;
    let window = running.state.journal().open();
    let ack = ghost_control::mode_change::publish(&log.shared(), None, mode, "ghost run")
        .await
        .context("cannot change the mode")?;
    let now = running
        .state
        .wait_mode_applied(ack.offset, None, MODE_WAIT)
        .await;
    if now.as_ref().is_none_or(|s| s.mode != mode) {
        bail!("ghost did not reach {mode} within {MODE_WAIT:?}");
    }

    let proxy_url = format!("http://{}", running.local_addr);
    let ca = running.state.ca_cert_path();
    let status = super::command::run(&command, &proxy_url, ca.as_deref()).await?;

    let collected = running.state.journal().close(window).unwrap_or_default();
    running.shutdown(SHUTDOWN_DEADLINE).await;
    log.close().await?;
    crate::telemetry::stop(telemetry).await;
    Ok(Outcome {
        status,
        served: collected
            .served
            .into_iter()
            .map(crate::view::run_entry)
            .collect(),
        dropped: collected.dropped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_maps_need_a_name_and_a_url() {
        let ok = parse_service_map(&["stripe=https://api.stripe.com".into()]).unwrap();
        assert_eq!(ok, vec![("stripe".into(), "https://api.stripe.com".into())]);
        for bad in ["stripe", "=https://x", "stripe=", ""] {
            let err = parse_service_map(&[bad.into()]).unwrap_err().to_string();
            assert!(err.contains("expected NAME=URL"), "{bad}: {err}");
        }
    }
}
