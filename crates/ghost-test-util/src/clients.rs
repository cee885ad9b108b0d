//! HTTP clients that are not ours, run as processes: curl, Python's urllib and
//! Node's `https` (through an explicit CONNECT tunnel, `peers/connect_client.js`).
//! Each asserts that the client succeeded and returns what it printed; a
//! `no_proxy` list in the test's environment is removed so proxies apply.

use std::path::Path;
use std::process::Output;

async fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = tokio::process::Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("no_proxy")
        .env_remove("NO_PROXY")
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `curl -sS ARGS`.
pub async fn curl(args: &[&str]) -> Output {
    let mut all = vec!["-sS"];
    all.extend_from_slice(args);
    run("curl", &all, &[]).await
}

/// The body of `GET url` through Python's `urllib.request` with `env` (proxy
/// variables, `SSL_CERT_FILE`, ...).
pub async fn urllib_get(url: &str, env: &[(&str, &str)]) -> Vec<u8> {
    let script = "import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1]).read())";
    run("python3", &["-c", script, url], env).await.stdout
}

/// The body of `GET url` through Node's `https`, tunnelled by a CONNECT to
/// `proxy` (host:port) and trusting the CA in `ca`.
pub async fn node_https_via_connect(url: &str, proxy: &str, ca: &Path) -> Vec<u8> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/connect_client.js");
    let ca = ca.to_string_lossy();
    run("node", &[script, url], &[("PROXY", proxy), ("CA", &ca)])
        .await
        .stdout
}
