#!/usr/bin/env python3
"""Parses wrk output and renders ghost's benchmark report (used by loadtests/run.sh).

  report.py record --runs FILE --scenario NAME --conns N --wrk FILE [--key value ...]
      parse one wrk --latency output and append it (plus the extra fields) as a
      JSON line to FILE
  report.py render --dir RUN_DIR --out FILE [--docs FILE] [--history FILE]
      read RUN_DIR/runs.jsonl, RUN_DIR/meta.json, RUN_DIR/library.txt and write the
      markdown report (and, with --docs, the same report as docs/benchmarks.md); with
      --history, append this run's figures to FILE and show the last runs' ratios

Only the standard library is used.
"""

import json
import statistics
import re
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}
SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}

# Scenario name -> (title, what it measures, baseline scenario).
SCENARIOS = {
    "bare": ("bare-server direct (baseline)", "`GET /users/42` straight to bare-server", None),
    "mock-exact": ("ghost MOCK, exact hits", "`GET /users/42` (recorded) through ghost in MOCK", "bare"),
    "mock-exact-shared": ("ghost MOCK, exact hits, shared runtime (information)", "as `mock-exact`, with `--proxy-threads 0`: one shared work-stealing runtime instead of the default per-core request threads", "bare"),
    "mock-swap": ("ghost MOCK, smart-swap hits", "`GET /users/99` through ghost in MOCK; only `/users/42` is recorded", "bare"),
    "learn": ("ghost LEARN (forward + record)", "`GET /users/42` through `ghost proxy` (the proxy process alone, embedded log) in LEARN to bare-server, every request recorded", "bare"),
    "learn-shared": ("ghost LEARN, shared runtime (information)", "as `learn`, with `--proxy-threads 0`: one shared work-stealing runtime instead of the default per-core request threads (each owning its connections and upstream links)", "bare"),
    "learn-kafka": ("ghost LEARN over Kafka (information)", "as `learn`, with `--log kafka://` to a tansu broker on the same 2 cores (the broker's CPU is not in the server column)", "bare"),
    "learn-up": ("ghost LEARN under `ghost up` (information)", "as above, but `ghost up`: the scrubber worker runs in the same process and scrubs every capture on the same 2 cores", "bare"),
    "bare-random": ("bare-server direct, random ids (baseline)", "`GET /users/{random 1..N}` straight to bare-server (wrk Lua script)", None),
    "mock-100k": ("ghost MOCK, exact hits on the 100k library", "`GET /users/{random 1..N}` through ghost in MOCK with N recordings", "bare-random"),
    "bare-end": ("bare-server direct, again at the end (drift check)", "same as the baseline, measured last", None),
}


def to_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"bad wrk latency `{text}`")
    return float(m.group(1)) * UNITS[m.group(2)]


def parse_wrk(text):
    out = {"non2xx": 0, "socket_errors": 0}
    m = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    if not m:
        raise ValueError("no Requests/sec in wrk output:\n" + text)
    out["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_ms"), ("75", "p75_ms"), ("90", "p90_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        if not m:
            raise ValueError(f"no {pct}% line (was wrk run with --latency?)")
        out[key] = to_ms(m.group(1))
    m = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", text, re.M)
    if m:
        out["avg_ms"], out["max_ms"] = to_ms(m.group(1)), to_ms(m.group(3))
    m = re.search(r"^\s+(\d+) requests in ([0-9.]+)(\w+), ([0-9.]+)(\w+) read", text, re.M)
    if m:
        out["requests"] = int(m.group(1))
        read = float(m.group(4)) * SIZE_UNITS.get(m.group(5), 1)
        out["bytes_per_response"] = read / max(out["requests"], 1)
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m:
        out["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["socket_errors"] = sum(int(g) for g in m.groups())
    return out


def parse_flags(argv):
    flags = {}
    it = iter(argv)
    for a in it:
        if not a.startswith("--"):
            raise SystemExit(f"report.py: unexpected argument {a}")
        try:
            flags[a[2:]] = next(it)
        except StopIteration:
            raise SystemExit(f"report.py: {a} needs a value") from None
    return flags


def number(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    return int(f) if f.is_integer() and "." not in str(v) else f


def cmd_record(argv):
    flags = parse_flags(argv)
    runs, wrk = flags.pop("runs"), flags.pop("wrk")
    with open(wrk) as f:
        row = parse_wrk(f.read())
    row["scenario"] = flags.pop("scenario")
    row["conns"] = int(flags.pop("conns"))
    for k, v in flags.items():
        row[k.replace("-", "_")] = number(v)
    with open(runs, "a") as f:
        f.write(json.dumps(row) + "\n")
    print(
        f"  {row['scenario']:<12} c={row['conns']:<3} {row['rps']:>10.0f} req/s"
        f"  p50 {fmt_ms(row['p50_ms'])}  p99 {fmt_ms(row['p99_ms'])}"
        + (f"  non-2xx {row['non2xx']}" if row["non2xx"] else "")
        + (f"  socket errors {row['socket_errors']}" if row["socket_errors"] else "")
    )


def fmt_ms(ms):
    if ms < 1:
        return f"{ms * 1000:.0f} µs"
    if ms < 100:
        return f"{ms:.2f} ms"
    return f"{ms:.0f} ms"


def fmt_ratio(r):
    return "–" if r is None else f"{r:.2f}×"


def load_runs(path):
    runs = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                runs[(r["scenario"], r["conns"])] = r
    return runs


def load_kv(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    out[k] = v
    except FileNotFoundError:
        pass
    return out


def ratios(runs, scen, conns):
    base = SCENARIOS[scen][2]
    r = runs.get((scen, conns))
    b = runs.get((base, conns)) if base else None
    if not r or not b:
        return None, None
    return r["rps"] / b["rps"], r["p99_ms"] / b["p99_ms"]


def paired_rounds(runs):
    """Rounds of `pair-*-rN` measurements: [(n, {kind: row})], in round order."""
    rounds = {}
    for (scen, _c), r in runs.items():
        m = re.fullmatch(r"pair-(direct|relay|forward|fwdthreads|learn)-r(\d+)", scen)
        if m:
            rounds.setdefault(int(m.group(2)), {})[m.group(1)] = r
    return sorted(rounds.items())


def paired_median(runs, kind, base="direct"):
    """Median over the paired rounds of KIND's req/s over BASE's (same round)."""
    vals = [
        k[kind]["rps"] / k[base]["rps"]
        for _, k in paired_rounds(runs)
        if kind in k and base in k
    ]
    return statistics.median(vals) if vals else None


def cpu_per_request(r):
    reqs = r.get("requests") or 0
    if not reqs or r.get("sut_cpu_s") in (None, ""):
        return None
    return 1e6 * float(r["sut_cpu_s"]) / reqs


def cpu_pct(r, key):
    wall = r.get("wall_s") or 0
    v = r.get(key)
    if not wall or v is None or v == "":
        return None
    return 100.0 * float(v) / float(wall)


def fmt_pct(p):
    return "–" if p is None else f"{p:.0f}%"


def mib(kib):
    try:
        return f"{int(kib) / 1024:.1f} MiB"
    except (TypeError, ValueError):
        return "–"


def render(run_dir):
    runs = load_runs(f"{run_dir}/runs.jsonl")
    with open(f"{run_dir}/meta.json") as f:
        meta = json.load(f)
    lib = load_kv(f"{run_dir}/library.txt")
    L = []
    add = L.append
    add("# ghost benchmarks")
    add("")
    add("Generated by `loadtests/run.sh --write-docs`; do not edit by hand, re-run it.")
    add("Every ratio compares against the bare hyper server measured **in the same run, on the")
    add("same machine**, as DESIGN.md \"Performance rules\" asks.")
    add("")
    add("## Run")
    add("")
    add(f"- Date: {meta['date']}")
    add(f"- Machine: {meta['nproc']} CPUs, {meta['cpu']}, {meta['mem']}, kernel {meta['kernel']}")
    add(f"- Commit: `{meta['commit']}`{meta.get('dirty', '')}")
    add(f"- Toolchain: {meta['rustc']}, release profile (thin LTO); {meta['wrk']}")
    add(f"- Command: `{meta['command']}`")
    add(
        f"- Load: wrk `-t{meta['threads']} -c16` and `-c64`, {meta['seconds']} s per measurement after a "
        f"{meta['warmup']} s warm-up, `--latency` (p50/p99 from wrk's latency distribution), HTTP/1.1 keep-alive."
    )
    add(
        "- wrk, the server under test and (for LEARN) the upstream bare-server all share the "
        f"{meta['nproc']} cores, so every figure is CPU-bound on the whole box, not just on the server."
    )
    add("- Each ghost scenario uses a fresh data directory (fsync policy: default `interval`).")
    add("")

    # Targets.
    add("## Targets")
    add("")
    add("| Target | Measured | Result |")
    add("|---|---|---|")
    rows = []
    thr, _ = ratios(runs, "mock-exact", 64)
    rows.append(("MOCK exact-hit throughput ≥ 0.8× bare at 64 connections", thr, 0.8, "ge"))
    for c in (16, 64):
        _, p = ratios(runs, "mock-exact", c)
        rows.append((f"MOCK exact-hit p99 ≤ 1.5× bare's p99 at {c} connections", p, 1.5, "le"))
    thr = paired_median(runs, "learn", "fwdthreads")
    n = len(paired_rounds(runs))
    rows.append(
        (
            f"LEARN throughput ≥ 0.75× `hyper-forward` on request threads at 64 connections "
            f"(median of {n} paired rounds)",
            thr,
            0.75,
            "ge",
        )
    )
    verdicts = []
    for name, v, limit, op in rows:
        if v is None:
            verdict = "not measured"
        else:
            ok = v >= limit if op == "ge" else v <= limit
            verdict = "**pass**" if ok else "**FAIL**"
        verdicts.append((name, verdict))
        add(f"| {name} | {fmt_ratio(v)} | {verdict} |")
    add("")
    drift = []
    for c in (16, 64):
        a, b = runs.get(("bare", c)), runs.get(("bare-end", c))
        if a and b:
            drift.append(f"{c} connections {b['rps'] / a['rps']:.2f}×")
    if drift:
        add(
            "Drift check: the same baseline measured again at the end of the run gave "
            + ", ".join(drift)
            + " of the first measurement's req/s. Ratios closer to a threshold than that are within "
            "this machine's run-to-run noise."
        )
        add("")
    add("For information (no target): smart-swap hits and exact hits on the 100k library, below.")
    add("")

    # Per-scenario tables.
    add("## Results")
    add("")
    for scen, (title, what, base) in SCENARIOS.items():
        present = [c for c in (16, 64) if (scen, c) in runs]
        if not present:
            continue
        add(f"### {title}")
        add("")
        add(what + ".")
        if base:
            add(f"Ratios are against *{SCENARIOS[base][0]}* at the same connection count.")
        add("")
        add("| Connections | req/s | p50 | p99 | req/s ratio | p99 ratio | errors |")
        add("|---:|---:|---:|---:|---:|---:|---:|")
        for c in present:
            r = runs[(scen, c)]
            thr, p = ratios(runs, scen, c)
            errs = r.get("non2xx", 0) + r.get("socket_errors", 0)
            add(
                f"| {c} | {r['rps']:,.0f} | {fmt_ms(r['p50_ms'])} | {fmt_ms(r['p99_ms'])} | "
                f"{fmt_ratio(thr)} | {fmt_ratio(p)} | {errs} |"
            )
        notes = []
        for c in present:
            r = runs[(scen, c)]
            if "captures_published" in r or "captures_dropped" in r:
                notes.append(
                    f"{c} connections: {r.get('requests', 0):,} requests, "
                    f"{int(r.get('captures_published', 0)):,} captures published since ghost started "
                    "(warm-up included), "
                    f"{int(r.get('captures_dropped', 0)):,} dropped (full publishing queue), "
                    f"data dir {int(r.get('data_bytes', 0)) / 1048576:.1f} MiB afterwards"
                )
            if scen.startswith("mock") and r.get("up_cpu_s") is not None:
                notes.append(
                    f"{c} connections: upstream CPU during the run {float(r['up_cpu_s']):.2f} s "
                    "(ghost must not call it in MOCK)"
                )
        if notes:
            add("")
            for n in notes:
                add(f"- {n}")
        add("")

    rounds = paired_rounds(runs)
    if rounds:
        add("### LEARN against the forwarding floors (paired rounds)")
        add("")
        add(
            "Each round measures, back to back at 64 connections: bare-server direct, `tcp-relay` "
            "(copies bytes between a downstream and its own upstream connection without parsing "
            "HTTP: the floor for any forwarding proxy on this box), `hyper-forward` (hyper's server "
            "and client codecs with one upstream connection per downstream connection, nothing "
            "else) on tokio's work-stealing runtime and again on per-core request threads (ghost's "
            "default runtime model: the floor for a hyper-based proxy such as ghost), then `ghost "
            "proxy` in LEARN on a fresh data dir. Ratios are against that round's direct "
            "measurement; the last column is ghost LEARN over that round's `hyper-forward, threads`, "
            "and the LEARN target is its median over the rounds (direct and `tcp-relay` ratios are "
            "reported, not targeted). CPU/request is the process's CPU time over wrk's completed "
            "requests."
        )
        add("")
        add(
            "| Round | direct req/s | tcp-relay | hyper-forward | hyper-forward, threads | ghost LEARN "
            "| CPU/request: relay / forward / forward threads / ghost | ghost / forward threads |"
        )
        add("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n, k in rounds:
            d = k.get("direct")

            def cell(kind):
                r = k.get(kind)
                if not r or not d:
                    return "–"
                return f"{r['rps']:,.0f} ({fmt_ratio(r['rps'] / d['rps'])})"

            cpus = " / ".join(
                "–" if k.get(x) is None or cpu_per_request(k[x]) is None else f"{cpu_per_request(k[x]):.1f} µs"
                for x in ("relay", "forward", "fwdthreads", "learn")
            )
            ft, lr = k.get("fwdthreads"), k.get("learn")
            vs = fmt_ratio(lr["rps"] / ft["rps"]) if ft and lr else "–"
            add(
                f"| {n} | {d['rps']:,.0f} | {cell('relay')} | {cell('forward')} | {cell('fwdthreads')} "
                f"| {cell('learn')} | {cpus} | {vs} |"
                if d
                else f"| {n} | – | – | – | – | – | {cpus} | {vs} |"
            )
        add(
            f"| median | | {fmt_ratio(paired_median(runs, 'relay'))} | {fmt_ratio(paired_median(runs, 'forward'))} "
            f"| {fmt_ratio(paired_median(runs, 'fwdthreads'))} | {fmt_ratio(paired_median(runs, 'learn'))} | "
            f"| {fmt_ratio(paired_median(runs, 'learn', 'fwdthreads'))} |"
        )
        add("")

    # CPU split.
    add("## Where the CPU goes")
    add("")
    add(
        "CPU time of each process during the measured window (from `/proc/PID/stat`), as a share of "
        f"one core; the machine has {meta['nproc']} cores ({100 * int(meta['nproc'])}% in total). "
        "\"other\" is whole-machine busy time minus the servers and wrk (kernel threads, softirq "
        "work not charged to a process, anything else running): a large value means the run was disturbed."
    )
    add("")
    add(
        "\"CPU/request\" is the server's CPU time divided by the requests wrk completed. Context "
        "switches and futex calls per request come from `perf stat -p` on the server over the "
        "measured window (blank when perf is unavailable)."
    )
    add("")
    add(
        "| Scenario | Connections | server under test | upstream | wrk | other | machine busy "
        "| server CPU/request | ctx switches/request | futex/request | bytes/response |"
    )
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for scen in SCENARIOS:
        for c in (16, 64):
            r = runs.get((scen, c))
            if not r:
                continue
            sut, up, busy = cpu_pct(r, "sut_cpu_s"), cpu_pct(r, "up_cpu_s"), cpu_pct(r, "busy_s")
            wrk = cpu_pct(r, "wrk_cpu_s")
            rest = None if busy is None else max(0.0, busy - (sut or 0) - (up or 0) - (wrk or 0))
            bpr = r.get("bytes_per_response")
            reqs = r.get("requests") or 0
            per_req = f"{1e6 * float(r['sut_cpu_s']) / reqs:.1f} µs" if reqs and r.get("sut_cpu_s") is not None else "–"
            # perf counts over BENCH_SECONDS; wrk's requests over (about) the same window.
            def per(key):
                v = r.get(key)
                if v in (None, "") or not reqs:
                    return "–"
                return f"{float(v) / reqs:.2f}"
            add(
                f"| {scen} | {c} | {fmt_pct(sut)} | {fmt_pct(up)} | {fmt_pct(wrk)} | {fmt_pct(rest)} | {fmt_pct(busy)} | "
                f"{per_req} | {per('ctx_switches')} | {per('futex')} | "
                f"{'–' if bpr is None else f'{bpr:.0f}'} |"
            )
    add("")
    if meta.get("rss_mock_kib"):
        line = (
            f"Resident memory of the MOCK ghost (1-recording library): {mib(meta.get('rss_mock_start_kib'))} "
            f"at start-up, {mib(meta['rss_mock_kib'])} (peak {mib(meta.get('hwm_mock_kib'))}) after serving "
        )
        try:
            reqs = int(meta.get("mock_requests", 0))
            grow = (int(meta["rss_mock_kib"]) - int(meta["rss_mock_start_kib"])) * 1024
            line += f"{reqs:,} requests, i.e. {grow / max(reqs, 1):.0f} bytes of growth per request"
        except (KeyError, ValueError):
            line += "the MOCK runs"
        add(line + ". Nothing scraped ghost's `/metrics` during the run.")
        add("")

    # Library.
    add("## 100k-recording library")
    add("")
    if lib:
        n = int(lib.get("n", 0))
        add(
            f"`gen-library` recorded `GET /users/1..{n}` through ghost in LEARN (64 in flight) against "
            "bare-server, then restarted ghost on that data directory."
        )
        add("")
        add("| Measure | Value |")
        add("|---|---|")
        add(f"| Recordings in the library | {int(lib.get('library_total', 0)):,} |")
        add(
            f"| Recording pass | {lib.get('learn_seconds', '–')} s ({int(lib.get('learn_rps', 0)):,} req/s client-side); "
            f"{int(lib.get('captures_dropped_first_pass', 0)):,} captures dropped, {int(lib.get('rerequested', 0)):,} re-requested |"
        )
        add(f"| Data directory on disk | {int(lib.get('data_dir_bytes', 0)) / 1048576:.1f} MiB |")
        add(
            f"| Start-up (spawn → proxy address printed, whole log applied) | median **{lib.get('startup_ms_median', '–')} ms** "
            f"(each: {lib.get('startup_ms_each', '–')} ms) |"
        )
        add(f"| RSS right after start-up | **{mib(lib.get('rss_after_start_kib'))}** |")
        add(
            f"| RSS after {int(lib.get('mock_requests', 0)):,} MOCK requests over random ids | "
            f"**{mib(lib.get('rss_after_requests_kib'))}** (peak {mib(lib.get('hwm_kib'))}) |"
        )
        add(f"| MOCK answers by `x-ghost-mock` | {lib.get('mock_kinds', '–')} |")
        add(f"| RSS of the process that recorded them (LEARN) | {mib(lib.get('rss_learning_process_kib'))} |")
        add("")
    else:
        add("Not measured in this run.")
        add("")

    scrub = []
    for backend in ("embedded", "kafka"):
        try:
            with open(f"{run_dir}/scrub-{backend}.json") as f:
                scrub.append(json.loads(f.read().strip().splitlines()[-1]))
        except (OSError, ValueError, IndexError):
            pass
    add("## Scrubber throughput")
    add("")
    if scrub:
        add(
            "`scrub-bench`: the real scrubber worker (`ghost_scrubber::worker::run`, as in `ghost worker scrub`) "
            "drains N captures already on `ghost.captures.v1`; each capture has the same ~2 KB JSON order "
            "document (customer, addresses, 6 line items, payment; about a dozen PII values) as request and "
            "response body, so every capture is ~4 KB of JSON to scan. \"Per core\" is captures per CPU-second "
            "of the worker's process (with Kafka, the broker's CPU is not included)."
        )
        add("")
        add("| Log | captures | body bytes | wall | captures/s | CPU-seconds | captures/s per core |")
        add("|---|---:|---:|---:|---:|---:|---:|")
        for r in scrub:
            add(
                f"| {r['backend']} | {r['captures']:,} | {r['mean_body_bytes']:,} | {r['wall_s']:.1f} s | "
                f"{r['captures_per_s']:,.0f} | {r['cpu_s']:.1f} | {r['captures_per_cpu_s']:,.0f} |"
            )
    else:
        add("Not measured in this run.")
    add("")

    add("## Caveats")
    add("")
    add(
        "- wrk is closed-loop: \"same connection count\" is not the same offered load. A slower server "
        "receives fewer requests per second, and its p99 is measured at that lower rate. No fixed-rate "
        "generator (wrk2, oha) is used."
    )
    add(
        "- With 2 cores shared by wrk, the server and (LEARN) the upstream, req/s ratios partly measure how "
        "much CPU each side leaves to the others; see the CPU table."
    )
    add(
        "- The LEARN baseline is bare-server direct; ghost in LEARN adds a proxy hop *and* a recording "
        "per request, so it runs two servers' worth of work on the same cores."
    )
    add(
        f"- The drift check (`bare-end`) shows how much the machine moved during the run; differences of "
        "that size between scenarios are noise."
    )
    add("")
    return "\n".join(L), verdicts


def history_entry(run_dir):
    runs = load_runs(f"{run_dir}/runs.jsonl")
    with open(f"{run_dir}/meta.json") as f:
        meta = json.load(f)
    return {
        "date": meta["date"],
        "commit": meta["commit"],
        "seconds": meta["seconds"],
        "runs": {f"{s}/{c}": [r["rps"], r["p99_ms"]] for (s, c), r in sorted(runs.items())},
    }


def render_history(path, limit=10):
    try:
        with open(path) as f:
            entries = [json.loads(l) for l in f if l.strip()][-limit:]
    except FileNotFoundError:
        return []
    if len(entries) < 2:
        return []

    def ratio(e, scen, base, c, i):
        a, b = e["runs"].get(f"{scen}/{c}"), e["runs"].get(f"{base}/{c}")
        return fmt_ratio(a[i] / b[i]) if a and b else "–"

    def paired(e, base="direct"):
        vals = []
        for key, v in e["runs"].items():
            m = re.fullmatch(r"pair-learn-r(\d+)/64", key)
            d = m and e["runs"].get(f"pair-{base}-r{m.group(1)}/64")
            if d:
                vals.append(v[0] / d[0])
        return fmt_ratio(statistics.median(vals)) if vals else "–"

    L = [
        "## Recent runs on this machine",
        "",
        "The same ratios from the last runs of `loadtests/run.sh` here (newest last), to show how much "
        "they move between runs. The commit is HEAD at the time; uncommitted changes in the tree are not "
        "recorded, so rows can differ in code as well as in noise.",
        "",
        "| Date | Commit | MOCK exact req/s @64 | MOCK exact p99 @16 | MOCK exact p99 @64 | LEARN req/s @64 | LEARN paired median | LEARN / forward threads | drift @16 | drift @64 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in entries:
        L.append(
            f"| {e['date']} | `{e['commit']}` | {ratio(e, 'mock-exact', 'bare', 64, 0)} | "
            f"{ratio(e, 'mock-exact', 'bare', 16, 1)} | {ratio(e, 'mock-exact', 'bare', 64, 1)} | "
            f"{ratio(e, 'learn', 'bare', 64, 0)} | {paired(e)} | {paired(e, 'fwdthreads')} | "
            f"{ratio(e, 'bare-end', 'bare', 16, 0)} | "
            f"{ratio(e, 'bare-end', 'bare', 64, 0)} |"
        )
    L.append("")
    return L


def cmd_render(argv):
    flags = parse_flags(argv)
    text, verdicts = render(flags["dir"])
    if flags.get("history"):
        with open(flags["history"], "a") as f:
            f.write(json.dumps(history_entry(flags["dir"])) + "\n")
        extra = render_history(flags["history"])
        if extra:
            marker = "## Caveats"
            text = text.replace(marker, "\n".join(extra) + "\n" + marker, 1)
    for path in filter(None, (flags.get("out"), flags.get("docs"))):
        with open(path, "w") as f:
            f.write(text)
    print(text)


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("record", "render"):
        print(__doc__, file=sys.stderr)
        return 2
    {"record": cmd_record, "render": cmd_render}[sys.argv[1]](sys.argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
