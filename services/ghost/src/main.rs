//! The `ghost` binary: a CLI that composes the proxy, control plane and log.

mod cli;
mod client;
mod file_config;
mod log;
mod migrate_cmd;
mod mode_cmd;
mod rebuild_cmd;
mod run_cmd;
mod telemetry;
mod topics;
mod up;
mod view;
mod workers;

use clap::Parser;

// The request path allocates small, short-lived buffers on two worker threads
// plus the log's blocking threads; glibc's arenas spent ~20% of LEARN CPU there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ghost: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // `ghost record`/`replay` pass the command's status on.
        Err(e) if e.downcast_ref::<run_cmd::ExitWith>().is_some() => {
            std::process::ExitCode::from(e.downcast_ref::<run_cmd::ExitWith>().map_or(1, |x| x.0))
        }
        Err(e) => {
            eprintln!("ghost: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
