//! `ghost up` (proxy + control plane + log in one process) and `ghost proxy`
//! (the proxy alone).

use crate::cli::{CommonArgs, Fsync, ProxyArgs, TlsIntercept, UpArgs};
use crate::file_config::{FileConfig, ServiceEntry};
use crate::log::OpenLog;
use crate::view::ProxyView;
use anyhow::{Context, bail};
use ghost_control::{BootstrapOutcome, ControlConfig};
use ghost_log::embedded::FsyncPolicy;
use ghost_model::{Redactor, ServiceName};
use ghost_proxy::intercept::{CaSource, InterceptConfig, InterceptMode};
use ghost_proxy::{ProxyConfig, ServiceConfig, UpstreamTls};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const SERVICES_FILE: &str = "services.json";

pub(crate) fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GHOST_LOG_LEVEL")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Services from flags/config; when none are given, the ones the last run saved.
fn services(
    args: &CommonArgs,
    file: &FileConfig,
    data: &Path,
) -> anyhow::Result<Vec<ServiceEntry>> {
    let mut entries = file.services.clone();
    for (name, upstream) in &args.extra_services {
        entries.retain(|s| &s.name != name);
        entries.push(ServiceEntry::new(name, upstream));
    }
    if let Some(up) = args.upstream.clone().or_else(|| file.upstream.clone()) {
        entries.retain(|s| s.name != ServiceName::DEFAULT);
        entries.push(ServiceEntry::new(ServiceName::DEFAULT, &up));
    }
    let saved = data.join(SERVICES_FILE);
    if entries.is_empty() {
        return match std::fs::read(&saved) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{} is corrupt; delete it or pass --upstream",
                    saved.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", saved.display())),
        };
    }
    let tmp = saved.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&entries)?)
        .and_then(|()| std::fs::rename(&tmp, &saved))
        .with_context(|| format!("cannot save {}", saved.display()))?;
    Ok(entries)
}

fn service_configs(entries: &[ServiceEntry]) -> anyhow::Result<Vec<ServiceConfig>> {
    entries
        .iter()
        .map(|e| {
            let name = ServiceName::new(&e.name)?;
            let upstream: http::Uri = e.upstream.parse().with_context(|| {
                format!(
                    "service `{}`: invalid upstream URL `{}`",
                    e.name, e.upstream
                )
            })?;
            if !matches!(upstream.scheme_str(), Some("http" | "https"))
                || upstream.authority().is_none()
            {
                bail!(
                    "service `{}`: upstream `{}` must be an absolute http:// or https:// URL",
                    e.name,
                    e.upstream
                );
            }
            Ok(ServiceConfig {
                tenant: e.tenant.clone(),
                name,
                upstream,
                host: e.host.clone(),
                path_prefix: e.path_prefix.clone(),
                preserve_host: e.preserve_host,
                tls: UpstreamTls {
                    ca_file: e.ca_file.clone(),
                    client_cert: e.client_cert.clone(),
                    client_key: e.client_key.clone(),
                    insecure_skip_verify: e.insecure_skip_verify,
                },
            })
        })
        .collect()
}

fn intercept_config(
    args: &CommonArgs,
    file: &FileConfig,
    data: &Path,
) -> anyhow::Result<InterceptConfig> {
    let mode = match args
        .tls_intercept
        .or(file.tls_intercept)
        .unwrap_or(TlsIntercept::Off)
    {
        TlsIntercept::Off => InterceptMode::Off,
        TlsIntercept::Lax => InterceptMode::Lax,
        TlsIntercept::Strict => InterceptMode::Strict,
    };
    let ca = match (
        args.ca_cert.clone().or(file.ca_cert.clone()),
        args.ca_key.clone().or(file.ca_key.clone()),
    ) {
        (Some(cert), Some(key)) => CaSource::Files { cert, key },
        (None, None) => CaSource::Dir(data.join("tls")),
        _ => bail!("ca_cert and ca_key must be given together"),
    };
    Ok(InterceptConfig {
        mode,
        ca,
        tls_listen: Some(
            args.tls_addr
                .or(file.tls_addr)
                .unwrap_or(([127, 0, 0, 1], 8443).into()),
        ),
    })
}

/// Everything both `up` and `proxy` set up before serving.
pub(crate) struct Prepared {
    pub data: std::path::PathBuf,
    pub file: FileConfig,
    pub log: OpenLog,
    pub proxy: ProxyConfig,
    pub telemetry: Option<ghost_telemetry::Telemetry>,
}

pub(crate) async fn prepare(args: &CommonArgs) -> anyhow::Result<Prepared> {
    init_tracing();
    let file = FileConfig::load(args.config.as_deref())?;
    let telemetry = crate::telemetry::start(args.otel.otlp.clone().or(file.otlp.clone()), "ghost")?;
    let data = args
        .data
        .clone()
        .or(file.data.clone())
        .unwrap_or_else(|| "data".into());
    std::fs::create_dir_all(&data)
        .with_context(|| format!("cannot create data directory {}", data.display()))?;
    let entries = services(args, &file, &data)?;
    let services = service_configs(&entries)?;
    if services.is_empty() {
        tracing::warn!(
            "no services configured: only forward-proxy clients (HTTP_PROXY/HTTPS_PROXY pointed at ghost) are served; pass --upstream URL for requests sent to ghost directly (they get 404 unknown_service)"
        );
    }

    let mut extra: Vec<String> = file.redact_headers.clone();
    if let Some(list) = &args.redact_headers {
        extra.extend(list.split(',').map(str::to_owned));
    }
    let redactor = Redactor::with_extra(extra)?;

    let fsync = match args.fsync.or(file.fsync).unwrap_or(Fsync::Interval) {
        Fsync::Always => FsyncPolicy::Always,
        Fsync::Interval => FsyncPolicy::Interval(Duration::from_millis(200)),
        Fsync::Never => FsyncPolicy::Never,
    };
    let log = OpenLog::open(&args.log, &data, fsync).await?;

    let proxy_addr = args
        .proxy_addr
        .or(file.proxy_addr)
        .unwrap_or(([127, 0, 0, 1], 8080).into());
    let mut proxy = ProxyConfig::new(proxy_addr);
    proxy.services = services;
    proxy.redactor = redactor;
    if let Some(n) = args.max_body_bytes.or(file.max_body_bytes) {
        proxy.max_body_bytes = n;
    }
    if let Some(n) = args.proxy_threads.or(file.proxy_threads) {
        proxy.threads = usize::from(n);
    }
    proxy.allow_hosts = args.allow_hosts.clone().or(file.allow_hosts.clone());
    proxy.intercept = intercept_config(args, &file, &data)?;
    proxy.durable_captures = args
        .durable_captures
        .or(file.durable_captures)
        .unwrap_or(false);
    Ok(Prepared {
        data,
        file,
        log,
        proxy,
        telemetry,
    })
}

/// Where interception's listener and CA are, when it is on.
fn print_tls(out: &mut impl Write, proxy: &ghost_proxy::RunningProxy) -> std::io::Result<()> {
    if let Some(addr) = proxy.tls_addr {
        writeln!(out, "ghost TLS listening on https://{addr}")?;
    }
    if let Some(path) = proxy.state.ca_cert_path() {
        writeln!(
            out,
            "ghost CA certificate at http://{}/_ghost/ca.crt (file {})",
            proxy.local_addr,
            path.display()
        )?;
    }
    Ok(())
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    // Handlers first: a supervisor may signal as soon as the addresses print.
    let mut signals = ghost_worker::shutdown::Signals::install();
    let Prepared {
        data,
        file,
        log,
        proxy: proxy_config,
        telemetry,
    } = prepare(&args.common).await?;
    let proxy = ghost_proxy::start(proxy_config, log.shared())
        .await
        .context("cannot start the proxy")?;
    let mut host = ghost_worker::Host::start(&log.shared(), crate::workers::REGISTRY, None);
    let proxy_ready = proxy_health(&proxy);
    host.add_component("proxy", proxy_ready.clone());
    let admin = host.serve_admin(args.host.admin()).await?;

    let control_addr = args
        .control_addr
        .or(file.control_addr)
        .unwrap_or(([127, 0, 0, 1], 8000).into());
    let mut control_config = ControlConfig::new(control_addr, data.join("control"));
    control_config.bootstrap_key = std::env::var("GHOST_API_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    let view = Arc::new(ProxyView::new(proxy.state.clone()));
    let control = ghost_control::start(control_config, log.shared(), view)
        .await
        .context("cannot start the control plane")?;

    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "ghost proxy listening on http://{}", proxy.local_addr)?;
        print_tls(&mut out, &proxy)?;
        writeln!(
            out,
            "ghost control listening on http://{}",
            control.local_addr
        )?;
        writeln!(out, "ghost admin listening on http://{admin}")?;
        writeln!(out, "ghost data in {}", data.display())?;
        if let BootstrapOutcome::Generated(key) = &control.bootstrap {
            writeln!(out, "ghost admin API key (shown once, store it): {key}")?;
        }
        out.flush()?;
    }
    tracing::info!(
        proxy = %proxy.local_addr,
        control = %control.local_addr,
        recordings = proxy.state.library().len(),
        "ghost is up"
    );

    signals.recv().await;
    // One deadline for everything: connections drain, queued captures reach
    // the log, workers finish and commit their batches, then the log closes.
    let deadline = tokio::time::Instant::now() + args.host.deadline();
    let left = || deadline.saturating_duration_since(tokio::time::Instant::now());
    tracing::info!(deadline = ?args.host.deadline(), "shutting down: draining connections");
    proxy_ready.set(ghost_worker::HealthState::Stopping);
    control.shutdown(left()).await;
    proxy.shutdown(left()).await;
    host.shutdown(left()).await;
    log.close().await?;
    crate::telemetry::stop(telemetry).await;
    tracing::info!("ghost stopped");
    Ok(())
}

/// The proxy as a component of `/readyz`: ready once it serves (it is, once
/// started), not ready again while shutting down.
fn proxy_health(proxy: &ghost_proxy::RunningProxy) -> ghost_worker::Health {
    let health = ghost_worker::Health::default();
    health.set(if proxy.state.is_ready() {
        ghost_worker::HealthState::Running
    } else {
        ghost_worker::HealthState::Starting
    });
    health
}

/// `ghost proxy`: the proxy alone; modes arrive on the modes topic.
pub async fn run_proxy(args: ProxyArgs) -> anyhow::Result<()> {
    // Handlers first: a supervisor may signal as soon as the addresses print.
    let mut signals = ghost_worker::shutdown::Signals::install();
    let Prepared {
        log,
        proxy: proxy_config,
        telemetry,
        ..
    } = prepare(&args.common).await?;
    let proxy = ghost_proxy::start(proxy_config, log.shared())
        .await
        .context("cannot start the proxy")?;
    let mut host = ghost_worker::Host::start(&log.shared(), &[], None);
    let proxy_ready = proxy_health(&proxy);
    host.add_component("proxy", proxy_ready.clone());
    let admin = host.serve_admin(args.host.admin()).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "ghost proxy listening on http://{}", proxy.local_addr)?;
        print_tls(&mut out, &proxy)?;
        writeln!(out, "ghost admin listening on http://{admin}")?;
        out.flush()?;
    }
    signals.recv().await;
    proxy_ready.set(ghost_worker::HealthState::Stopping);
    let deadline = tokio::time::Instant::now() + args.host.deadline();
    proxy.shutdown(args.host.deadline()).await;
    host.shutdown(deadline.saturating_duration_since(tokio::time::Instant::now()))
        .await;
    log.close().await?;
    crate::telemetry::stop(telemetry).await;
    Ok(())
}
