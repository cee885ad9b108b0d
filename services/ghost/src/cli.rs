//! Command-line interface. Precedence: flags > `GHOST_*` environment > ghost.toml
//! > defaults.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// ghost: record real API traffic, then replay it with no network.
///
/// Quick start:
///   ghost up --upstream http://127.0.0.1:3000     # proxy on :8080, control on :8000
///   curl http://127.0.0.1:8080/users/42           # LEARN: forwarded and recorded
///   ghost mode set mock                           # MOCK: served from the library
///   curl http://127.0.0.1:8080/users/42           # same response, upstream not needed
#[derive(Debug, Parser)]
#[command(name = "ghost", version, about, long_about, verbatim_doc_comment)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything in one process: proxy, control plane, embedded log under --data.
    Up(UpArgs),
    /// Run the proxy alone (LEARN on a fresh log), e.g. over Kafka:
    /// `ghost proxy --log kafka://H:P --upstream URL --proxy-addr ADDR`.
    Proxy(ProxyArgs),
    /// Run one worker as its own process (several processes of one worker share
    /// the topic's partitions through their consumer group), with /healthz,
    /// /readyz and /metrics on --admin-addr.
    Worker(WorkerArgs),
    /// Manage the log's topics.
    #[command(subcommand)]
    Topics(TopicsCommand),
    /// Team mode: bring a Postgres database to this build's schema (as the
    /// owner role) and create or update the application role the services
    /// connect as. Its password comes from GHOST_PG_APP_PASSWORD, or is
    /// generated and printed once.
    Migrate(MigrateArgs),
    /// Team mode: empty the Postgres projection and project the topics again
    /// from their first records (stop `ghost worker project` first; it
    /// resumes afterwards and skips what the rebuild wrote).
    Rebuild(RebuildArgs),
    /// Show or change the mode (LEARN, MOCK, PASSTHROUGH) of ghost or one service.
    #[command(subcommand)]
    Mode(ModeCommand),
    /// Run a command with every HTTP(S) request it makes recorded (LEARN):
    /// `ghost record -- CMD ARGS`. The command gets HTTP_PROXY/HTTPS_PROXY and
    /// ghost's CA (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS,
    /// CURL_CA_BUNDLE); ghost exits with its status after a summary.
    Record(RunArgs),
    /// Run a command against the recordings (MOCK, no network):
    /// `ghost replay [--strict] [--junit FILE] -- CMD ARGS`.
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Use the ghost already running behind this control plane instead of
    /// starting one: its proxy, CA and services; its global mode is switched
    /// for the run and restored afterwards.
    #[arg(long, value_name = "URL")]
    pub control_url: Option<String>,
    /// API key of --control-url's control plane.
    #[arg(long, env = "GHOST_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Record an origin under a service name of your choosing instead of its
    /// host: `--service-map stripe=https://api.stripe.com` (repeatable, or
    /// comma-separated). Saved with the data directory's services, so a later
    /// replay uses the same names.
    #[arg(
        long,
        value_name = "NAME=URL",
        value_delimiter = ',',
        conflicts_with = "control_url"
    )]
    pub service_map: Vec<String>,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Fail the run (non-zero exit) when any request missed the recordings,
    /// listing them.
    #[arg(long)]
    pub strict: bool,
    /// Write a JUnit XML report: one test case per request.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Postgres URL of the role that owns the schema.
    #[arg(long, env = "GHOST_POSTGRES_OWNER", hide_env_values = true)]
    pub postgres: String,
    /// The application role to create or update.
    #[arg(long, env = "GHOST_PG_APP_ROLE", default_value = "ghost_app")]
    pub app_role: String,
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// Postgres URL of a role allowed to TRUNCATE the projection (the owner).
    #[arg(long, env = "GHOST_POSTGRES_OWNER", hide_env_values = true)]
    pub postgres: String,
    #[command(flatten)]
    pub log: LogArgs,
    /// Directory of the embedded log's data when --log is not given.
    #[arg(long, env = "GHOST_DATA", default_value = "data")]
    pub data: PathBuf,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub host: HostArgs,
    /// Control plane listen address. Default 127.0.0.1:8000.
    #[arg(long, env = "GHOST_CONTROL_ADDR")]
    pub control_addr: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct ProxyArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub host: HostArgs,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// The log: `kafka://host:port[,host:port]`, or the embedded log under --data
    /// when not given.
    #[arg(long, env = "GHOST_LOG")]
    pub log: Option<String>,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The worker to run.
    #[arg(value_parser = worker_names())]
    pub name: String,
    #[command(flatten)]
    pub log: LogArgs,
    #[command(flatten)]
    pub otel: OtelArgs,
    #[command(flatten)]
    pub host: HostArgs,
    /// Directory of the embedded log's data when --log is not given.
    #[arg(long, env = "GHOST_DATA", default_value = "data")]
    pub data: PathBuf,
    /// Team mode: Postgres URL of the application role (workers that write
    /// to Postgres need it).
    #[arg(long, env = "GHOST_POSTGRES", hide_env_values = true)]
    pub postgres: Option<String>,
}

/// The registry's workers, each with its one-line description, for `--help`.
fn worker_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        crate::workers::REGISTRY
            .iter()
            .map(|w| clap::builder::PossibleValue::new(w.name).help(w.about)),
    )
}

/// How a process that runs workers is watched and stopped.
#[derive(Debug, Args)]
pub struct HostArgs {
    /// Where /healthz, /readyz and /metrics are served (port 0 picks a free
    /// port; the address is printed). Default 127.0.0.1:0.
    #[arg(long, env = "GHOST_ADMIN_ADDR")]
    pub admin_addr: Option<SocketAddr>,
    /// Seconds from SIGTERM/SIGINT until everything must have stopped: the
    /// batches in hand are finished and committed within it, what is not is
    /// abandoned uncommitted (and redelivered on the next start).
    #[arg(long, env = "GHOST_SHUTDOWN_DEADLINE", default_value_t = 30.0, value_parser = positive_secs)]
    pub shutdown_deadline: f64,
}

impl HostArgs {
    pub fn deadline(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.shutdown_deadline)
    }

    pub fn admin(&self) -> SocketAddr {
        self.admin_addr.unwrap_or(([127, 0, 0, 1], 0).into())
    }
}

fn positive_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!("`{s}` is not a number of seconds in (0, 86400]")),
    }
}

#[derive(Debug, Subcommand)]
pub enum TopicsCommand {
    /// Create every topic of topics/ that is missing, bring retention and cleanup
    /// policy on the brokers in line with the files, and report what cannot be
    /// changed in place (partition counts, replication). Safe to run repeatedly;
    /// exits non-zero while any drift remains.
    Apply {
        #[command(flatten)]
        log: LogArgs,
        /// Directory of the embedded log's data when --log is not given.
        #[arg(long, env = "GHOST_DATA", default_value = "data")]
        data: PathBuf,
        /// Report what would change and exit non-zero on any drift; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Args)]
pub struct OtelArgs {
    /// Export OpenTelemetry traces over OTLP/HTTP to this collector base URL
    /// (`/v1/traces` is appended; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, when set,
    /// is used as is). Off when unset.
    #[arg(long = "otlp", env = "OTEL_EXPORTER_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp: Option<String>,
}

/// Flags shared by every command that runs the proxy.
#[derive(Debug, Args)]
pub struct CommonArgs {
    #[command(flatten)]
    pub log: LogArgs,
    #[command(flatten)]
    pub otel: OtelArgs,
    /// Directory for all state (log, keys). Default ./data.
    #[arg(long, env = "GHOST_DATA")]
    pub data: Option<PathBuf>,
    /// Upstream base URL for the `default` service (requests no other service routes).
    #[arg(long, env = "GHOST_UPSTREAM")]
    pub upstream: Option<String>,
    /// Proxy listen address (port 0 picks a free port). Default 127.0.0.1:8080.
    #[arg(long, env = "GHOST_PROXY_ADDR")]
    pub proxy_addr: Option<SocketAddr>,
    /// Config file. Default ./ghost.toml when it exists.
    #[arg(long, env = "GHOST_CONFIG")]
    pub config: Option<PathBuf>,
    /// Largest request (and recorded response) body in bytes. Default 16 MiB.
    #[arg(long, env = "GHOST_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Request threads, each owning its connections and upstream links. Default:
    /// one per core. 0: one shared work-stealing runtime instead.
    #[arg(long, env = "GHOST_PROXY_THREADS", value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub proxy_threads: Option<u16>,
    /// Make each LEARN response wait until its capture is synced to disk.
    #[arg(long, env = "GHOST_DURABLE_CAPTURES")]
    pub durable_captures: Option<bool>,
    /// When the embedded log fsyncs: always (every append), interval (every 200 ms), never.
    #[arg(long, env = "GHOST_FSYNC", value_enum)]
    pub fsync: Option<Fsync>,
    /// Extra header names to redact, comma-separated (added to the built-in 16).
    #[arg(long, env = "REDACT_HEADERS")]
    pub redact_headers: Option<String>,
    /// Hosts that forward-proxy clients (HTTP_PROXY/HTTPS_PROXY pointed at
    /// ghost) may reach through services created on the fly, comma-separated:
    /// `api.example.com`, `*.example.com`, `*`. Default: any host while the
    /// proxy listens on loopback, none otherwise.
    #[arg(long, env = "GHOST_ALLOW_HOSTS", value_delimiter = ',')]
    pub allow_hosts: Option<Vec<String>>,
    /// TLS interception of CONNECT tunnels: off (tunnels pass through blind),
    /// lax (intercept; a CA or TLS listener failure is logged and plain HTTP
    /// keeps serving) or strict (such a failure stops ghost). Default off.
    #[arg(long, env = "ENABLE_TLS_INTERCEPTION", value_enum)]
    pub tls_intercept: Option<TlsIntercept>,
    /// Interception CA certificate (PEM); default: generated under DATA/tls.
    #[arg(long, env = "GHOST_CA_CERT", requires = "ca_key")]
    pub ca_cert: Option<PathBuf>,
    /// Interception CA private key (PEM), with --ca-cert.
    #[arg(long, env = "GHOST_CA_KEY", requires = "ca_cert")]
    pub ca_key: Option<PathBuf>,
    /// TLS listener for clients that reach ghost directly by name (SNI picks
    /// the service), while interception is on. Default 127.0.0.1:8443.
    #[arg(long, env = "GHOST_TLS_ADDR")]
    pub tls_addr: Option<SocketAddr>,
    /// Services added by `ghost record/replay --service-map` (name, upstream).
    #[arg(skip)]
    pub extra_services: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, ValueEnum, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TlsIntercept {
    #[value(alias = "false", alias = "0")]
    Off,
    #[value(alias = "true", alias = "1")]
    Lax,
    Strict,
}

#[derive(Debug, Clone, Copy, ValueEnum, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Fsync {
    Always,
    Interval,
    Never,
}

#[derive(Debug, Args)]
pub struct ControlTarget {
    /// Control plane URL.
    #[arg(
        long,
        env = "GHOST_CONTROL_URL",
        default_value = "http://127.0.0.1:8000"
    )]
    pub control_url: String,
    /// API key (printed by the first `ghost up`, or GHOST_API_KEY at first boot).
    #[arg(long, env = "GHOST_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Act on one service instead of the global mode.
    #[arg(long)]
    pub service: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ModeCommand {
    /// Print the current mode.
    Get(ControlTarget),
    /// Change the mode; waits until the proxy has applied it.
    Set {
        /// learn, mock or passthrough.
        mode: String,
        #[command(flatten)]
        target: ControlTarget,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Up(args) => crate::up::run(args).await,
        Command::Proxy(args) => crate::up::run_proxy(args).await,
        Command::Topics(TopicsCommand::Apply { log, data, dry_run }) => {
            crate::topics::apply(log, data, dry_run).await
        }
        Command::Worker(args) => crate::workers::run(args).await,
        Command::Migrate(args) => crate::migrate_cmd::run(args).await,
        Command::Rebuild(args) => crate::rebuild_cmd::run(args).await,
        Command::Mode(cmd) => crate::mode_cmd::run(cmd).await,
        Command::Record(args) => crate::run_cmd::record(args).await,
        Command::Replay(args) => crate::run_cmd::replay(args).await,
    }
}
