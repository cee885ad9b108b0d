//! `ghost record -- CMD` and `ghost replay -- CMD`: run a command with its
//! HTTP(S) traffic going through an in-process ghost, with nothing to
//! re-point: the command gets proxy variables and ghost's CA the ways common
//! runtimes read them. record switches to LEARN, replay to MOCK (the data
//! directory keeps that mode afterwards, as `ghost mode set` would).

use crate::cli::{ReplayArgs, RunArgs, TlsIntercept};
use crate::up::{Prepared, prepare};
use anyhow::Context;
use ghost_model::Mode;
use ghost_proxy::journal::{Journal, Served};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// ghost's exit status when it is not 0 (the command's, or 1 for `--strict`).
#[derive(Debug, thiserror::Error)]
#[error("exit status {0}")]
pub struct ExitWith(pub u8);

const JOURNAL_CAPACITY: usize = 1 << 16;
const MODE_WAIT: Duration = Duration::from_secs(60);
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

pub async fn record(args: RunArgs) -> anyhow::Result<()> {
    let (status, served) = run(args, Mode::Learn).await?;
    let mut by_service: BTreeMap<String, usize> = BTreeMap::new();
    for s in served.iter().filter(|s| s.answer == "learn") {
        *by_service
            .entry(s.service.clone().unwrap_or_default())
            .or_default() += 1;
    }
    let recorded: usize = by_service.values().sum();
    eprintln!("ghost record: {recorded} exchange(s) recorded");
    for (service, n) in &by_service {
        eprintln!("  {service}: {n}");
    }
    let others = served.len() - recorded;
    if others > 0 {
        eprintln!("  ({others} request(s) not recorded: errors or ghost's own paths)");
    }
    exit(status)
}

pub async fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    let (status, served) = run(args.run, Mode::Mock).await?;
    let misses: Vec<&Served> = served.iter().filter(|s| failed(s)).collect();
    eprintln!(
        "ghost replay: {} request(s), {} answered from recordings, {} missed",
        served.len(),
        served.len() - misses.len(),
        misses.len()
    );
    for m in &misses {
        eprintln!(
            "  {} {} {} → {} ({})",
            m.service.as_deref().unwrap_or("-"),
            m.method,
            m.target,
            m.status,
            m.answer
        );
    }
    if let Some(path) = &args.junit {
        write_junit(path, &served)?;
    }
    if args.strict && !misses.is_empty() && status == 0 {
        eprintln!("ghost replay --strict: failing the run for the misses above");
        return Err(ExitWith(1).into());
    }
    exit(status)
}

/// A replayed request that the recordings did not answer.
fn failed(s: &Served) -> bool {
    matches!(s.answer, "miss" | "error" | "transitioning")
}

fn exit(status: i32) -> anyhow::Result<()> {
    match u8::try_from(status) {
        Ok(0) => Ok(()),
        Ok(code) => Err(ExitWith(code).into()),
        Err(_) => Err(ExitWith(1).into()),
    }
}

/// Starts ghost in `mode`, runs the command through it, stops ghost. Returns
/// the command's exit status and every request ghost answered meanwhile.
async fn run(args: RunArgs, mode: Mode) -> anyhow::Result<(i32, Vec<Served>)> {
    let RunArgs {
        mut common,
        command,
    } = args;
    common.proxy_addr = common.proxy_addr.or(Some(([127, 0, 0, 1], 0).into()));
    // HTTPS is the common case: intercept unless told otherwise.
    common.tls_intercept = common.tls_intercept.or(Some(TlsIntercept::Lax));
    let Prepared {
        log,
        mut proxy,
        telemetry,
        ..
    } = prepare(&common).await?;
    let (journal, mut served_rx) = Journal::new(JOURNAL_CAPACITY);
    proxy.journal = Some(journal);
    proxy.intercept.tls_listen = None;
    let running = ghost_proxy::start(proxy, log.shared())
        .await
        .context("cannot start the proxy")?;
    let ack = ghost_control::mode_change::publish(&log.shared(), None, mode, "ghost run")
        .await
        .context("cannot change the mode")?;
    let now = running
        .state
        .wait_mode_applied(ack.offset, None, MODE_WAIT)
        .await;
    if now.as_ref().is_none_or(|s| s.mode != mode) {
        anyhow::bail!("ghost did not reach {mode} within {MODE_WAIT:?}");
    }

    let proxy_url = format!("http://{}", running.local_addr);
    let mut cmd = tokio::process::Command::new(&command[0]);
    cmd.args(&command[1..]);
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(var, &proxy_url);
    }
    // Everything goes through ghost: a NO_PROXY list would let traffic past it.
    for var in ["NO_PROXY", "no_proxy"] {
        cmd.env_remove(var);
    }
    if let Some(ca) = running.state.ca_cert_path() {
        for var in [
            "SSL_CERT_FILE",
            "REQUESTS_CA_BUNDLE",
            "NODE_EXTRA_CA_CERTS",
            "CURL_CA_BUNDLE",
        ] {
            cmd.env(var, &ca);
        }
    }
    let status = cmd
        .status()
        .await
        .with_context(|| format!("cannot run `{}`", command[0]))?;
    // A command killed by a signal exits like a shell reports it: 128 + signal.
    #[cfg(unix)]
    let code = {
        use std::os::unix::process::ExitStatusExt;
        status
            .code()
            .or(status.signal().map(|s| 128 + s))
            .unwrap_or(1)
    };
    #[cfg(not(unix))]
    let code = status.code().unwrap_or(1);

    running.shutdown(SHUTDOWN_DEADLINE).await;
    log.close().await?;
    crate::telemetry::stop(telemetry).await;
    let mut served = Vec::new();
    while let Ok(s) = served_rx.try_recv() {
        served.push(s);
    }
    Ok((code, served))
}

/// One test case per request: a miss (or an error) is a failure.
fn write_junit(path: &Path, served: &[Served]) -> anyhow::Result<()> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new("ghost replay");
    for s in served {
        let status = if failed(s) {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            st.set_message(format!("answered {} ({})", s.status, s.answer));
            st
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(format!("{} {}", s.method, s.target), status);
        case.set_classname(s.service.clone().unwrap_or_else(|| "unrouted".to_owned()));
        case.set_time(s.duration);
        suite.add_test_case(case);
    }
    let mut report = Report::new("ghost");
    report.add_test_suite(suite);
    let xml = report
        .to_string()
        .context("cannot render the JUnit report")?;
    std::fs::write(path, xml).with_context(|| format!("cannot write {}", path.display()))
}
