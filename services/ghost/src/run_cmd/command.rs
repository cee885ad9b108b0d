//! Runs the user's command with its traffic pointed at ghost.

use anyhow::Context;
use std::path::Path;

/// Runs `command` with every proxy variable set to `proxy_url` and `ca` (when
/// ghost intercepts TLS) exported the ways common runtimes read a CA bundle.
/// Returns its exit status as a shell reports it (128 + signal when killed).
pub(super) async fn run(
    command: &[String],
    proxy_url: &str,
    ca: Option<&Path>,
) -> anyhow::Result<i32> {
    let (program, args) = command
        .split_first()
        .context("no command given after `--`")?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args);
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(var, proxy_url);
    }
    // Everything goes through ghost: a NO_PROXY list would let traffic past it.
    for var in ["NO_PROXY", "no_proxy"] {
        cmd.env_remove(var);
    }
    if let Some(ca) = ca {
        for var in [
            "SSL_CERT_FILE",
            "REQUESTS_CA_BUNDLE",
            "NODE_EXTRA_CA_CERTS",
            "CURL_CA_BUNDLE",
        ] {
            cmd.env(var, ca);
        }
    }
    let status = cmd
        .status()
        .await
        .with_context(|| format!("cannot run `{program}`"))?;
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
    Ok(code)
}
