//! `gen-library`: builds a large recording library and measures ghost with it.
//!
//! 1. Starts `ghost up` on a fresh `--data` directory in LEARN against `--upstream`
//!    (a running `bare-server`) and sends `GET /users/1..=N` through the proxy,
//!    `--concurrency` in flight, until the library holds all N recordings
//!    (captures dropped by a full publishing queue are re-requested).
//! 2. Switches to MOCK and stops ghost gracefully.
//! 3. Restarts ghost on that directory `--restarts` times, measuring start-up
//!    (process spawn until the proxy address is printed, which ghost does once the
//!    whole log is applied) and resident memory (VmRSS) right after start-up and
//!    after serving `--requests` MOCK requests spread over the library.
//!
//! Prints a human summary and writes `key=value` lines to `--out` (for run.sh).
//!
//! Usage: gen-library --ghost BIN --upstream URL --data DIR [--n 100000]
//!        [--concurrency 64] [--requests 20000] [--restarts 3] [--out FILE] [--log FILE]

use anyhow::{Context, anyhow, bail};
use ghost_loadtests::{Ghost, HttpClient, get, http_client, metric_value, set_mode};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Args {
    ghost: PathBuf,
    upstream: String,
    data: PathBuf,
    log: PathBuf,
    n: usize,
    concurrency: usize,
    requests: usize,
    restarts: usize,
    out: Option<PathBuf>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut map = BTreeMap::new();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let Some(name) = flag.strip_prefix("--") else {
            bail!("unexpected argument `{flag}` (flags are --name value)");
        };
        let value = it.next().ok_or_else(|| anyhow!("--{name} needs a value"))?;
        map.insert(name.to_owned(), value);
    }
    let mut take = |k: &str| map.remove(k);
    let num = |v: Option<String>, k: &str, d: usize| -> anyhow::Result<usize> {
        v.map_or(Ok(d), |v| {
            v.parse()
                .with_context(|| format!("--{k} must be a number, got `{v}`"))
        })
    };
    let data: PathBuf = take("data")
        .ok_or_else(|| anyhow!("--data DIR is required"))?
        .into();
    let args = Args {
        ghost: take("ghost")
            .ok_or_else(|| anyhow!("--ghost BIN is required"))?
            .into(),
        upstream: take("upstream").ok_or_else(|| anyhow!("--upstream URL is required"))?,
        log: take("log").map_or_else(|| data.with_extension("log"), PathBuf::from),
        data,
        n: num(take("n"), "n", 100_000)?,
        concurrency: num(take("concurrency"), "concurrency", 64)?.max(1),
        requests: num(take("requests"), "requests", 20_000)?,
        restarts: num(take("restarts"), "restarts", 3)?.max(1),
        out: take("out").map(PathBuf::from),
    };
    if let Some(k) = map.keys().next() {
        bail!("unknown flag --{k}");
    }
    Ok(args)
}

/// Sends `GET {base}{path}` for every path, `concurrency` in flight. Returns how
/// many answered 200 and the `x-ghost-mock` header values seen (with counts).
async fn drive(
    client: &HttpClient,
    proxy: SocketAddr,
    paths: Arc<Vec<String>>,
    concurrency: usize,
) -> anyhow::Result<(usize, BTreeMap<String, usize>)> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (client, paths, next) = (client.clone(), paths.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut ok = 0usize;
            let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = paths.get(i) else { break };
                let reply = get(&client, &format!("http://{proxy}{path}")).await?;
                if reply.status.is_success() {
                    ok += 1;
                }
                *kinds
                    .entry(reply.header("x-ghost-mock").to_owned())
                    .or_default() += 1;
            }
            anyhow::Ok((ok, kinds))
        }));
    }
    let mut ok = 0;
    let mut kinds = BTreeMap::new();
    for t in tasks {
        let (o, k) = t.await??;
        ok += o;
        for (kind, c) in k {
            *kinds.entry(kind).or_default() += c;
        }
    }
    Ok((ok, kinds))
}

async fn control_json(
    client: &HttpClient,
    control: SocketAddr,
    path: &str,
) -> anyhow::Result<serde_json::Value> {
    let reply = ghost_loadtests::send(
        client,
        hyper::Method::GET,
        &format!("http://{control}{path}"),
        &[("x-api-key", ghost_loadtests::API_KEY)],
        bytes::Bytes::new(),
    )
    .await?;
    if !reply.status.is_success() {
        bail!("GET {path} answered {}", reply.status);
    }
    Ok(serde_json::from_slice(&reply.body)?)
}

async fn library_total(client: &HttpClient, control: SocketAddr) -> anyhow::Result<usize> {
    let v = control_json(client, control, "/v1/mocks?per_page=1").await?;
    v["total"]
        .as_u64()
        .and_then(|t| usize::try_from(t).ok())
        .ok_or_else(|| anyhow!("no total in /v1/mocks"))
}

/// Waits until the library total stops growing (captures are applied from the log
/// asynchronously) or reaches `want`.
async fn settled_total(
    client: &HttpClient,
    control: SocketAddr,
    want: usize,
) -> anyhow::Result<usize> {
    let mut last = usize::MAX;
    let mut stable_since = Instant::now();
    loop {
        let total = library_total(client, control).await?;
        if total >= want {
            return Ok(total);
        }
        if total != last {
            last = total;
            stable_since = Instant::now();
        } else if stable_since.elapsed() > Duration::from_secs(3) {
            return Ok(total);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn recorded_uris(
    client: &HttpClient,
    control: SocketAddr,
) -> anyhow::Result<HashSet<String>> {
    let mut uris = HashSet::new();
    for page in 1.. {
        let v = control_json(
            client,
            control,
            &format!("/v1/mocks?per_page=1000&page={page}"),
        )
        .await?;
        let items = v["items"]
            .as_array()
            .ok_or_else(|| anyhow!("no items in /v1/mocks"))?;
        if items.is_empty() {
            break;
        }
        uris.extend(
            items
                .iter()
                .filter_map(|i| i["uri"].as_str().map(str::to_owned)),
        );
    }
    Ok(uris)
}

async fn dropped_captures(client: &HttpClient, proxy: SocketAddr) -> anyhow::Result<f64> {
    let reply = get(client, &format!("http://{proxy}/_ghost/metrics")).await?;
    Ok(metric_value(
        &String::from_utf8_lossy(&reply.body),
        "ghost_captures_dropped_total",
    ))
}

fn dir_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Spread-out ids in 1..=n (a fixed LCG so every run asks the same).
fn sample_paths(n: usize, count: usize) -> Vec<String> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..count)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let id = (x >> 33) % (n.max(1) as u64) + 1;
            format!("/users/{id}")
        })
        .collect()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let client = http_client(args.concurrency * 2);
    let mut out: Vec<(String, String)> = Vec::new();
    let mut put = |k: &str, v: String| {
        println!("  {k} = {v}");
        out.push((k.to_owned(), v));
    };
    put("n", args.n.to_string());

    // 1. Record N distinct requests in LEARN.
    println!(
        "gen-library: recording {} requests into {}",
        args.n,
        args.data.display()
    );
    let ghost = Ghost::start(&args.ghost, &args.data, &args.upstream, &args.log).await?;
    let before = library_total(&client, ghost.control).await?;
    if before != 0 {
        bail!(
            "{} already holds {before} recordings; give gen-library a fresh directory",
            args.data.display()
        );
    }
    let all: Vec<String> = (1..=args.n).map(|i| format!("/users/{i}")).collect();
    let started = Instant::now();
    let (ok, _) = drive(
        &client,
        ghost.proxy,
        Arc::new(all.clone()),
        args.concurrency,
    )
    .await?;
    let learn = started.elapsed();
    if ok != args.n {
        bail!("only {ok} of {} LEARN requests answered 2xx", args.n);
    }
    put("learn_seconds", format!("{:.2}", learn.as_secs_f64()));
    put(
        "learn_rps",
        format!("{:.0}", args.n as f64 / learn.as_secs_f64()),
    );
    let mut total = settled_total(&client, ghost.control, args.n).await?;
    put("library_after_first_pass", total.to_string());
    put(
        "captures_dropped_first_pass",
        format!("{:.0}", dropped_captures(&client, ghost.proxy).await?),
    );
    let mut rerequested = 0usize;
    for _round in 0..5 {
        if total >= args.n {
            break;
        }
        let have = recorded_uris(&client, ghost.control).await?;
        let missing: Vec<String> = all.iter().filter(|p| !have.contains(*p)).cloned().collect();
        rerequested += missing.len();
        let want = total + missing.len();
        drive(&client, ghost.proxy, Arc::new(missing), 4).await?;
        total = settled_total(&client, ghost.control, want).await?;
    }
    put("rerequested", rerequested.to_string());
    if total < args.n {
        bail!("the library holds {total} recordings, wanted {}", args.n);
    }
    set_mode(&client, ghost.control, "MOCK").await?;
    total = library_total(&client, ghost.control).await?;
    put("library_total", total.to_string());
    let learn_mem = ghost.memory()?;
    put("rss_learning_process_kib", learn_mem.rss_kib.to_string());
    ghost.stop().await?;
    put("data_dir_bytes", dir_bytes(&args.data).to_string());

    // 2. Restart on the full library.
    let mut startups = Vec::new();
    let sample = Arc::new(sample_paths(args.n, args.requests));
    for r in 0..args.restarts {
        let ghost = Ghost::start(&args.ghost, &args.data, &args.upstream, &args.log).await?;
        startups.push(ghost.startup.as_secs_f64() * 1000.0);
        let at_start = ghost.memory()?;
        if r + 1 == args.restarts {
            let n = library_total(&client, ghost.control).await?;
            if n != total {
                bail!("after restart the library holds {n} recordings, before it held {total}");
            }
            set_mode(&client, ghost.control, "MOCK").await?;
            let started = Instant::now();
            let (ok, kinds) = drive(&client, ghost.proxy, sample.clone(), args.concurrency).await?;
            let took = started.elapsed();
            let after = ghost.memory()?;
            let exact = kinds.get("exact").copied().unwrap_or(0);
            put("rss_after_start_kib", at_start.rss_kib.to_string());
            put("mock_requests", args.requests.to_string());
            put("mock_ok", ok.to_string());
            put("mock_exact", exact.to_string());
            let mut kinds_text = String::new();
            for (k, c) in &kinds {
                let k = if k.is_empty() { "(none)" } else { k };
                let _ = write!(kinds_text, "{k}:{c} ");
            }
            put("mock_kinds", kinds_text.trim_end().to_owned());
            put(
                "mock_rps_client",
                format!("{:.0}", args.requests as f64 / took.as_secs_f64()),
            );
            put("rss_after_requests_kib", after.rss_kib.to_string());
            put("hwm_kib", after.hwm_kib.to_string());
            if exact != args.requests {
                eprintln!(
                    "warning: only {exact} of {} MOCK requests were exact hits",
                    args.requests
                );
            }
            println!(
                "gen-library: RSS {:.1} MiB after start-up, {:.1} MiB after {} MOCK requests (peak {:.1} MiB)",
                mib(at_start.rss_kib),
                mib(after.rss_kib),
                args.requests,
                mib(after.hwm_kib)
            );
        }
        ghost.stop().await?;
    }
    let text: Vec<String> = startups.iter().map(|s| format!("{s:.0}")).collect();
    put("startup_ms_each", text.join(","));
    let mut sorted = startups.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    put("startup_ms_median", format!("{median:.0}"));
    if let Some(path) = &args.out {
        let mut text = String::new();
        for (k, v) in &out {
            let _ = writeln!(text, "{k}={v}");
        }
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
