//! `ghost rebuild`: empties the Postgres projection and projects the topics
//! again from their first records, with a progress line.

use crate::cli::RebuildArgs;
use crate::log::OpenLog;
use anyhow::Context;
use ghost_log::embedded::FsyncPolicy;
use std::io::Write;
use std::time::{Duration, Instant};

pub async fn run(args: RebuildArgs) -> anyhow::Result<()> {
    crate::up::init_tracing();
    let log = OpenLog::open(
        &args.log,
        &args.data,
        FsyncPolicy::Interval(Duration::from_millis(200)),
    )
    .await?;
    let pool = ghost_store::connect(&args.postgres, 6)
        .await
        .context("ghost rebuild")?;
    let mut last: Option<Instant> = None;
    let mut progress = |done: u64, total: u64| {
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) && done < total {
            return;
        }
        last = Some(Instant::now());
        let pct = (done * 100).checked_div(total).unwrap_or(100);
        let width = 30;
        let filled = (pct as usize * width / 100).min(width);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\rrebuild [{}{}] {done}/{total} records ({pct}%)",
            "#".repeat(filled),
            "-".repeat(width - filled)
        );
        let _ = err.flush();
    };
    let rebuilt = ghost_projector::rebuild::rebuild(log.shared(), &pool, &mut progress)
        .await
        .context("ghost rebuild")?;
    eprintln!();
    let secs = rebuilt.took.as_secs_f64();
    println!(
        "rebuilt the projection from {} records in {secs:.1} s ({:.0} records/s)",
        rebuilt.records,
        rebuilt.records as f64 / secs.max(1e-9)
    );
    log.close().await
}
