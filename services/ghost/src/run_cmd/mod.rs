//! `ghost record -- CMD` and `ghost replay -- CMD`: run a command with its
//! HTTP(S) traffic going through ghost, with nothing to re-point: the command
//! gets proxy variables and ghost's CA the ways common runtimes read them.
//! record runs in LEARN, replay in MOCK, then both report what ghost answered
//! while the command ran.
//!
//! By default ghost runs in this process (the data directory keeps the mode
//! afterwards, as `ghost mode set` would); with `--control-url` a running
//! ghost is used and its global mode is restored afterwards.

mod command;
mod local;
mod remote;

use crate::cli::{ReplayArgs, RunArgs};
use anyhow::Context;
use ghost_control::RunEntry;
use ghost_model::Mode;
use std::collections::BTreeMap;
use std::path::Path;

/// ghost's exit status when it is not 0 (the command's, or 1 for `--strict`).
#[derive(Debug, thiserror::Error)]
#[error("exit status {0}")]
pub struct ExitWith(pub u8);

/// What a run produced: the command's exit status, and what ghost answered.
struct Outcome {
    status: i32,
    served: Vec<RunEntry>,
    /// Requests answered that did not fit the run's window.
    dropped: u64,
}

async fn run(args: RunArgs, mode: Mode) -> anyhow::Result<Outcome> {
    let out = match args.control_url.clone() {
        Some(url) => remote::run(args, &url, mode).await?,
        None => local::run(args, mode).await?,
    };
    if out.dropped > 0 {
        eprintln!(
            "ghost: {} request(s) beyond the first {} are not in this report",
            out.dropped,
            out.served.len()
        );
    }
    Ok(out)
}

pub async fn record(args: RunArgs) -> anyhow::Result<()> {
    let out = run(args, Mode::Learn).await?;
    let mut by_service: BTreeMap<&str, usize> = BTreeMap::new();
    for s in out.served.iter().filter(|s| s.answer == "learn") {
        *by_service
            .entry(s.service.as_deref().unwrap_or_default())
            .or_default() += 1;
    }
    let recorded: usize = by_service.values().sum();
    eprintln!("ghost record: {recorded} exchange(s) recorded");
    for (service, n) in &by_service {
        eprintln!("  {service}: {n}");
    }
    let others = out.served.len() - recorded;
    if others > 0 {
        eprintln!("  ({others} request(s) not recorded: errors or ghost's own paths)");
    }
    exit(out.status)
}

pub async fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    let out = run(args.run, Mode::Mock).await?;
    let misses: Vec<&RunEntry> = out.served.iter().filter(|s| failed(s)).collect();
    eprintln!(
        "ghost replay: {} request(s), {} answered from recordings, {} missed",
        out.served.len(),
        out.served.len() - misses.len(),
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
        write_junit(path, &out.served)?;
    }
    if args.strict && !misses.is_empty() && out.status == 0 {
        eprintln!("ghost replay --strict: failing the run for the misses above");
        return Err(ExitWith(1).into());
    }
    exit(out.status)
}

/// A replayed request that the recordings did not answer.
fn failed(s: &RunEntry) -> bool {
    matches!(s.answer.as_str(), "miss" | "error" | "transitioning")
}

fn exit(status: i32) -> anyhow::Result<()> {
    match u8::try_from(status) {
        Ok(0) => Ok(()),
        Ok(code) => Err(ExitWith(code).into()),
        Err(_) => Err(ExitWith(1).into()),
    }
}

/// One test case per request: a miss (or an error) is a failure.
fn write_junit(path: &Path, served: &[RunEntry]) -> anyhow::Result<()> {
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
        case.set_time(std::time::Duration::from_secs_f64(s.duration_ms / 1000.0));
        suite.add_test_case(case);
    }
    let mut report = Report::new("ghost");
    report.add_test_suite(suite);
    let xml = report
        .to_string()
        .context("cannot render the JUnit report")?;
    std::fs::write(path, xml).with_context(|| format!("cannot write {}", path.display()))
}
