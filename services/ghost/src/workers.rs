//! The worker registry, and `ghost worker <name>`: one worker as its own
//! process under a worker host. `ghost up` runs the same registry in-process.

use crate::cli::WorkerArgs;
use crate::log::OpenLog;
use anyhow::Context;
use ghost_log::embedded::FsyncPolicy;
use ghost_worker::{Env, Host, Signals, Spec, WorkerFuture};
use std::io::Write;

/// Every worker ghost has. `ghost worker --help` lists them; `ghost up` runs
/// them all.
pub const REGISTRY: &[Spec] = &[
    Spec {
        name: "scrub",
        about: "PII scrubber: ghost.captures.v1 → ghost.scrubbed.v1 (sealed), rule sets from ghost.config.v1",
        needs_postgres: false,
        start: scrub,
    },
    Spec {
        name: "project",
        about: "Postgres projector (team mode, needs --postgres): ghost.scrubbed.v1, ghost.modes.v1 and ghost.library.v1 → tables",
        needs_postgres: true,
        start: project,
    },
];

fn scrub(env: Env) -> WorkerFuture {
    Box::pin(async move {
        ghost_scrubber::worker::run(env.log, env.shutdown, env.health)
            .await
            .map_err(Into::into)
    })
}

fn project(env: Env) -> WorkerFuture {
    Box::pin(async move { ghost_projector::run(env).await.map_err(Into::into) })
}

/// `ghost worker <name>`.
pub async fn run(args: WorkerArgs) -> anyhow::Result<()> {
    crate::up::init_tracing();
    let mut signals = Signals::install();
    let spec = REGISTRY
        .iter()
        .find(|s| s.name == args.name)
        .with_context(|| format!("no worker named `{}`", args.name))?;
    let telemetry =
        crate::telemetry::start(args.otel.otlp, &format!("ghost-worker-{}", spec.name))?;
    let log = OpenLog::open(
        &args.log,
        &args.data,
        FsyncPolicy::Interval(std::time::Duration::from_millis(200)),
    )
    .await?;
    if spec.needs_postgres && args.postgres.is_none() {
        anyhow::bail!(
            "worker {} needs --postgres URL (or GHOST_POSTGRES): the application role's connection `ghost migrate` printed",
            spec.name
        );
    }
    let mut host = Host::start(
        &log.shared(),
        std::slice::from_ref(spec),
        args.postgres.as_deref(),
    );
    let admin = host.serve_admin(args.host.admin()).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "ghost worker {} running", spec.name)?;
        writeln!(out, "ghost admin listening on http://{admin}")?;
        out.flush()?;
    }
    let failed = tokio::select! {
        (name, why) = host.stopped_early() => Some(format!("worker {name} stopped: {why}")),
        _ = signals.recv() => None,
    };
    let ended = host.shutdown(args.host.deadline()).await;
    let closed = log.close().await;
    crate::telemetry::stop(telemetry).await;
    if let Some(why) = failed {
        anyhow::bail!(why);
    }
    if let Some((name, ghost_worker::Ended::Failed(why))) = ended
        .iter()
        .find(|(_, e)| matches!(e, ghost_worker::Ended::Failed(_)))
    {
        anyhow::bail!("worker {name} failed: {why}");
    }
    closed
}
