#!/usr/bin/env bash
# ghost's benchmark runner. In one run, on this machine, with wrk:
#   a. bare-server direct (the baseline; also the upstream ghost records from)
#   b. ghost MOCK exact hits        (/users/42 recorded, then MOCK)
#   c. ghost MOCK smart-swap hits   (/users/99 served from the /users/42 recording)
#   d. ghost LEARN                  (forwarding to bare-server and recording every request)
#      also on one shared work-stealing runtime (--proxy-threads 0) instead of
#      the default per-core request threads, and over Kafka (a tansu broker
#      started here; BENCH_KAFKA=0 skips it), and MOCK exact hits on the shared
#      runtime
#   d*. LEARN_ROUNDS (default 3) paired rounds at 64 connections, back to back:
#      direct, tcp-relay and hyper-forward on tokio's work-stealing runtime and on
#      per-core request threads as ghost uses (the floors for any forwarding proxy
#      and for a hyper-based one), then ghost LEARN on a fresh data dir. The LEARN
#      target is judged on the median of the per-round ratios, which this box's
#      drift (10-20% within a run) moves far less than a single comparison.
#   f. scrubber worker throughput on ~2 KB JSON bodies, embedded log and Kafka
#      (scrub-bench; SCRUB_CAPTURES sets the count, default 20000)
#   e. a 100k-recording library: start-up time and RSS (gen-library), plus MOCK exact
#      hits over random ids of it against bare-server with the same random ids
#   and the baseline once more at the end as a drift check.
# Results go to loadtests/results/latest.md (and raw wrk output next to it).
#
# Usage: loadtests/run.sh [--write-docs]
#   --write-docs   also regenerate docs/benchmarks.md
# Environment:
#   BENCH_SECONDS  seconds per measurement (default 10)
#   BENCH_WARMUP   warm-up seconds before each measurement (default 2)
#   BENCH_THREADS  wrk threads (default 2)
#   LIBRARY_N      recordings in the big library (default 100000; 0 skips it)
#   BENCH_KEEP=1   keep the temporary run directory (data dirs, logs)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LT="$ROOT/loadtests"
WRITE_DOCS=0
for arg in "$@"; do
    case "$arg" in
        --write-docs) WRITE_DOCS=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "run.sh: unknown argument $arg (try --help)" >&2
            exit 2
            ;;
    esac
done
BENCH_SECONDS="${BENCH_SECONDS:-10}"
BENCH_WARMUP="${BENCH_WARMUP:-2}"
BENCH_THREADS="${BENCH_THREADS:-2}"
LIBRARY_N="${LIBRARY_N:-100000}"
CONNS=(16 64)

log() { printf '==> %s\n' "$*" >&2; }

"$ROOT/scripts/install-wrk.sh"

log "building release binaries (ghost, bare-server, gen-library, scrub-bench, tcp-relay, hyper-forward)"
(cd "$ROOT" && cargo build --release --quiet -p ghost -p ghost-loadtests)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
for b in ghost bare-server gen-library scrub-bench tcp-relay hyper-forward; do
    [ -x "$BIN/$b" ] || { echo "run.sh: $BIN/$b missing after the build" >&2; exit 1; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ghost-bench.XXXXXX")"
RUNS="$WORK/runs.jsonl"
: >"$RUNS"
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {
    local keep=() p
    for p in "${PIDS[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    PIDS=("${keep[@]}")
}

# wait_for_line FILE REGEX PID -> prints the first matching line (600 s timeout: a
# big library is applied before ghost prints its addresses).
wait_for_line() {
    local i line
    for ((i = 0; i < 6000; i++)); do
        if line="$(grep -m1 -E "$2" "$1" 2>/dev/null)"; then
            printf '%s\n' "$line"
            return 0
        fi
        if ! kill -0 "$3" 2>/dev/null; then
            echo "run.sh: process $3 exited before printing /$2/" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "run.sh: timed out waiting for /$2/ in $1" >&2
    return 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
CLK_TCK="$(getconf CLK_TCK)"
# perf stat (when it works here) counts context switches and futex calls of the server
# under test during each measurement; BENCH_PERF=0 turns it off.
PERF_EVENTS=""
if [ "${BENCH_PERF:-1}" != 0 ] && command -v perf >/dev/null 2>&1; then
    if perf stat -x, -e context-switches,syscalls:sys_enter_futex -o /dev/null -- true >/dev/null 2>&1; then
        PERF_EVENTS="context-switches,syscalls:sys_enter_futex"
    elif perf stat -x, -e context-switches -o /dev/null -- true >/dev/null 2>&1; then
        PERF_EVENTS="context-switches"
    fi
fi
rss_kib() { awk -v f="$2" '$1 == f":" {print $2}' "/proc/$1/status"; }

# --- processes ---------------------------------------------------------------

log "starting bare-server"
"$BIN/bare-server" >"$WORK/bare.out" 2>"$WORK/bare.err" &
BARE_PID=$!
PIDS+=("$BARE_PID")
BARE="$(wait_for_line "$WORK/bare.out" '^listening on ' "$BARE_PID" | awk '{print $3}')"

GHOST_PID=""
PROXY=""
CONTROL=""
# start_ghost DATA_DIR [extra flags...]
start_ghost() {
    local out="$1.out" dir="$1"
    shift
    GHOST_API_KEY="$API_KEY" "$BIN/ghost" up --data "$dir" --upstream "http://$BARE" \
        --proxy-addr 127.0.0.1:0 --control-addr 127.0.0.1:0 "$@" >"$out" 2>"$dir.log" &
    GHOST_PID=$!
    PIDS+=("$GHOST_PID")
    PROXY="$(wait_for_line "$out" '^ghost proxy listening on ' "$GHOST_PID" | sed 's#.*http://##')"
    CONTROL="$(wait_for_line "$out" '^ghost control listening on ' "$GHOST_PID" | sed 's#.*http://##')"
}
# start_proxy DATA_DIR [extra flags...]: `ghost proxy` alone (no control plane, no workers).
start_proxy() {
    local out="$1.out" dir="$1"
    shift
    "$BIN/ghost" proxy --data "$dir" --upstream "http://$BARE" --proxy-addr 127.0.0.1:0 "$@" >"$out" 2>"$dir.log" &
    GHOST_PID=$!
    PIDS+=("$GHOST_PID")
    PROXY="$(wait_for_line "$out" '^ghost proxy listening on ' "$GHOST_PID" | sed 's#.*http://##')"
}
stop_ghost() {
    kill -TERM "$GHOST_PID"
    wait "$GHOST_PID" || echo "run.sh: ghost $GHOST_PID exited with $?" >&2
    forget_pid "$GHOST_PID"
    GHOST_PID=""
}
API_KEY="loadtest-admin-key-0123456789"
set_mode() {
    curl -fsS -X POST -H "x-api-key: $API_KEY" -H 'content-type: application/json' \
        "http://$CONTROL/v1/mode" -d "{\"mode\":\"$1\"}" >/dev/null
}
# expect_mock URL KIND -> fails unless ghost answers 200 with x-ghost-mock: KIND
expect_mock() {
    local headers
    headers="$(curl -sS -D - -o "$WORK/last-body" "$1")"
    if ! grep -qi "^x-ghost-mock: $2" <<<"$headers" || ! grep -q '^HTTP/1.1 200' <<<"$headers"; then
        echo "run.sh: $1 did not answer 200 with x-ghost-mock: $2:" >&2
        echo "$headers" >&2
        exit 1
    fi
}
metric() { awk -v m="$2" '$1 == m || index($1, m "{") == 1 {s += $NF} END {printf "%d", s}' "$1"; }

# --- measurement -------------------------------------------------------------

# measure SCENARIO CONNS URL SUT_PID [UPSTREAM_PID] [LUA] [extra record flags...]
measure() {
    local scen="$1" conns="$2" url="$3" sut="$4" up="${5:-}" lua="${6:-}"
    shift 6
    local script=()
    [ -n "$lua" ] && script=(-s "$lua")
    local out="$WORK/$scen-c$conns.wrk"
    if [ "$BENCH_WARMUP" != 0 ]; then
        wrk -t"$BENCH_THREADS" -c"$conns" -d"${BENCH_WARMUP}s" "${script[@]}" "$url" >/dev/null
    fi
    local s0 u0=0 b0 t0 s1 u1=0 b1 t1
    s0="$(cpu_ticks "$sut")"
    [ -n "$up" ] && u0="$(cpu_ticks "$up")"
    b0="$(busy_ticks)"
    t0="$(date +%s.%N)"
    local perf_pid=""
    if [ -n "$PERF_EVENTS" ]; then
        perf stat -x, -e "$PERF_EVENTS" -p "$sut" -o "$out.perf" -- sleep "$BENCH_SECONDS" >/dev/null 2>&1 &
        perf_pid=$!
    fi
    # The subshell waits for wrk, so its cutime + cstime is wrk's CPU time.
    local wrk_ticks
    wrk_ticks="$(
        wrk -t"$BENCH_THREADS" -c"$conns" -d"${BENCH_SECONDS}s" --latency "${script[@]}" "$url" >"$out"
        awk '{print $16 + $17}' "/proc/$BASHPID/stat"
    )"
    t1="$(date +%s.%N)"
    [ -n "$perf_pid" ] && { wait "$perf_pid" || true; }
    s1="$(cpu_ticks "$sut")"
    [ -n "$up" ] && u1="$(cpu_ticks "$up")"
    b1="$(busy_ticks)"
    local cpu_args=(
        --wall_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')"
        --sut_cpu_s "$(awk -v a="$s0" -v b="$s1" -v t="$CLK_TCK" 'BEGIN {printf "%.2f", (b - a) / t}')"
        --wrk_cpu_s "$(awk -v a="$wrk_ticks" -v t="$CLK_TCK" 'BEGIN {printf "%.2f", a / t}')"
        --busy_s "$(awk -v a="$b0" -v b="$b1" -v t="$CLK_TCK" 'BEGIN {printf "%.2f", (b - a) / t}')"
    )
    if [ -n "$perf_pid" ] && [ -s "$out.perf" ]; then
        cpu_args+=(--perf_s "$BENCH_SECONDS")
        cpu_args+=(--ctx_switches "$(awk -F, '$3 == "context-switches" {print $1 + 0}' "$out.perf")")
        cpu_args+=(--futex "$(awk -F, '$3 == "syscalls:sys_enter_futex" {print $1 + 0}' "$out.perf")")
    fi
    [ -n "$up" ] && cpu_args+=(--up_cpu_s "$(awk -v a="$u0" -v b="$u1" -v t="$CLK_TCK" 'BEGIN {printf "%.2f", (b - a) / t}')")
    python3 "$LT/report.py" record --runs "$RUNS" --scenario "$scen" --conns "$conns" \
        --wrk "$out" --url "$url" "${cpu_args[@]}" "$@"
}

log "a. baseline: bare-server at $BARE (${BENCH_SECONDS}s per run)"
for c in "${CONNS[@]}"; do
    measure bare "$c" "http://$BARE/users/42" "$BARE_PID" "" ""
done

log "b/c. ghost MOCK (exact and smart-swap)"
start_ghost "$WORK/mock"
RSS_MOCK_START="$(rss_kib "$GHOST_PID" VmRSS)"
curl -fsS "http://$PROXY/users/42" -o "$WORK/learned-42" # LEARN: recorded
set_mode MOCK                                              # waits until applied
expect_mock "http://$PROXY/users/42" exact
cmp -s "$WORK/last-body" "$WORK/learned-42" || { echo "run.sh: MOCK body differs from the recorded one" >&2; exit 1; }
expect_mock "http://$PROXY/users/99" smart-swap
grep -q '"id":99,"account_id":"99"' "$WORK/last-body" || { echo "run.sh: smart swap did not swap the id: $(cat "$WORK/last-body")" >&2; exit 1; }
for c in "${CONNS[@]}"; do
    measure mock-exact "$c" "http://$PROXY/users/42" "$GHOST_PID" "$BARE_PID" ""
done
for c in "${CONNS[@]}"; do
    measure mock-swap "$c" "http://$PROXY/users/99" "$GHOST_PID" "$BARE_PID" ""
done
RSS_MOCK="$(rss_kib "$GHOST_PID" VmRSS)"
HWM_MOCK="$(rss_kib "$GHOST_PID" VmHWM)"
curl -fsS "http://$PROXY/_ghost/metrics" >"$WORK/mock.metrics"
stop_ghost

log "b'. ghost MOCK exact hits on one shared work-stealing runtime (--proxy-threads 0)"
start_ghost "$WORK/mock-shared" --proxy-threads 0
curl -fsS "http://$PROXY/users/42" -o /dev/null
set_mode MOCK
expect_mock "http://$PROXY/users/42" exact
measure mock-exact-shared 64 "http://$PROXY/users/42" "$GHOST_PID" "$BARE_PID" ""
stop_ghost

log "d. ghost LEARN (fresh data dir per connection count)"
start_ghost "$WORK/learn-up"
curl -fsS "http://$PROXY/users/42" -o /dev/null
measure learn-up 64 "http://$PROXY/users/42" "$GHOST_PID" "$BARE_PID" ""
stop_ghost
for c in "${CONNS[@]}"; do
    start_proxy "$WORK/learn-c$c"
    curl -fsS "http://$PROXY/users/42" -o /dev/null
    measure learn "$c" "http://$PROXY/users/42" "$GHOST_PID" "$BARE_PID" ""
    curl -fsS "http://$PROXY/_ghost/metrics" >"$WORK/learn-c$c.metrics"
    stop_ghost
    # Amend the run with what ghost recorded (after the graceful stop flushed the log).
    python3 - "$RUNS" "$c" \
        "$(metric "$WORK/learn-c$c.metrics" ghost_captures_published_total)" \
        "$(metric "$WORK/learn-c$c.metrics" ghost_captures_dropped_total)" \
        "$(du -sb "$WORK/learn-c$c" | awk '{print $1}')" <<'PY'
import json, sys
path, conns, published, dropped, data = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:])
rows = [json.loads(l) for l in open(path) if l.strip()]
for r in rows:
    if r["scenario"] == "learn" and r["conns"] == conns:
        r.update(captures_published=published, captures_dropped=dropped, data_bytes=data)
open(path, "w").write("".join(json.dumps(r) + "\n" for r in rows))
print(f"  learn c={conns}: {published} captures published, {dropped} dropped")
PY
    # Its dirty pages would otherwise be written back during later scenarios.
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK/learn-c$c"
done

LEARN_ROUNDS="${LEARN_ROUNDS:-3}"
log "d*. $LEARN_ROUNDS paired rounds: direct, tcp-relay, hyper-forward (work-stealing, then request threads), ghost LEARN (64 connections)"
# start_floor BINARY: one of the forwarding floors in front of bare-server.
start_floor() { # BINARY [MODE]
    "$BIN/$1" 127.0.0.1:0 "$BARE" "${@:2}" >"$WORK/$1.out" 2>"$WORK/$1.err" &
    GHOST_PID=$!
    PIDS+=("$GHOST_PID")
    PROXY="$(wait_for_line "$WORK/$1.out" '^listening on ' "$GHOST_PID" | awk '{print $3}')"
}
stop_floor() { # the floors have no graceful shutdown: TERM ends them
    kill -TERM "$GHOST_PID"
    wait "$GHOST_PID" 2>/dev/null || true
    forget_pid "$GHOST_PID"
    GHOST_PID=""
}
for r in $(seq "$LEARN_ROUNDS"); do
    measure "pair-direct-r$r" 64 "http://$BARE/users/42" "$BARE_PID" "" ""
    start_floor tcp-relay
    measure "pair-relay-r$r" 64 "http://$PROXY/users/42" "$GHOST_PID" "$BARE_PID" ""
    stop_floor
    start_floor hyper-forward
    measure "pair-forward-r$r" 64 "http://$PROXY/users/42" "$GHOST_PID" "$BARE_PID" ""
    stop_floor
    start_floor hyper-forward threads
    measure "pair-fwdthreads-r$r" 64 "http://$PROXY/users/42" "$GHOST_PID" "$BARE_PID" ""
    stop_floor
    start_proxy "$WORK/pair-learn-r$r"
    curl -fsS "http://$PROXY/users/42" -o /dev/null
    measure "pair-learn-r$r" 64 "http://$PROXY/users/42" "$GHOST_PID" "$BARE_PID" ""
    stop_ghost
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK/pair-learn-r$r"
done

log "d'. ghost LEARN on one shared work-stealing runtime (--proxy-threads 0)"
start_proxy "$WORK/learn-shared" --proxy-threads 0
curl -fsS "http://$PROXY/users/42" -o /dev/null
measure learn-shared 64 "http://$PROXY/users/42" "$GHOST_PID" "$BARE_PID" ""
stop_ghost

# A tansu broker for the Kafka scenarios (BENCH_KAFKA=0 skips them).
KAFKA=""
if [ "${BENCH_KAFKA:-1}" != 0 ]; then
    TANSU="$("$ROOT/scripts/install-tansu.sh")"
    KPORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "$TANSU" broker --listener-url "tcp://127.0.0.1:$KPORT" --advertised-listener-url "tcp://127.0.0.1:$KPORT" \
        --storage-engine memory://tansu/ >"$WORK/tansu.log" 2>&1 &
    TANSU_PID=$!
    PIDS+=("$TANSU_PID")
    for _ in $(seq 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$KPORT") 2>/dev/null && break
        sleep 0.1
    done
    KAFKA="kafka://127.0.0.1:$KPORT"
    "$BIN/ghost" topics apply --log "$KAFKA" >"$WORK/topics-apply.out"

    log "d''. ghost LEARN over Kafka ($KAFKA)"
    start_proxy "$WORK/learn-kafka" --log "$KAFKA"
    curl -fsS "http://$PROXY/users/42" -o /dev/null
    measure learn-kafka 64 "http://$PROXY/users/42" "$GHOST_PID" "$BARE_PID" ""
    stop_ghost
fi

# Scrubber throughput on ~2 KB JSON bodies: embedded log, then Kafka.
SCRUB_N="${SCRUB_CAPTURES:-20000}"
log "f. scrubber throughput, $SCRUB_N captures (embedded log)"
"$BIN/scrub-bench" --captures "$SCRUB_N" | tee "$WORK/scrub-embedded.json"
if [ -n "$KAFKA" ]; then
    log "f. scrubber throughput, $SCRUB_N captures ($KAFKA)"
    "$BIN/scrub-bench" --captures "$SCRUB_N" --log "$KAFKA" | tee "$WORK/scrub-kafka.json"
    kill -TERM "$TANSU_PID" 2>/dev/null || true
    wait "$TANSU_PID" 2>/dev/null || true
    forget_pid "$TANSU_PID"
fi

if [ "$LIBRARY_N" != 0 ]; then
    log "e. $LIBRARY_N-recording library: record, restart, start-up time and RSS"
    "$BIN/gen-library" --ghost "$BIN/ghost" --upstream "http://$BARE" --data "$WORK/lib" \
        --log "$WORK/lib.log" --n "$LIBRARY_N" --concurrency 64 --out "$WORK/library.txt"
    log "e. MOCK exact hits over random ids of the $LIBRARY_N-recording library"
    start_ghost "$WORK/lib"
    set_mode MOCK
    expect_mock "http://$PROXY/users/$LIBRARY_N" exact
    export LIBRARY_N
    measure bare-random 64 "http://$BARE" "$BARE_PID" "" "$LT/random-users.lua"
    measure mock-100k 64 "http://$PROXY" "$GHOST_PID" "$BARE_PID" "$LT/random-users.lua"
    stop_ghost
fi

log "baseline again (drift check)"
for c in "${CONNS[@]}"; do
    measure bare-end "$c" "http://$BARE/users/42" "$BARE_PID" "" ""
done

# --- report ------------------------------------------------------------------

COMMAND="BENCH_SECONDS=$BENCH_SECONDS loadtests/run.sh"
[ "$WRITE_DOCS" = 1 ] && COMMAND="$COMMAND --write-docs"
dirty=""
if [ -n "$(cd "$ROOT" && git status --porcelain 2>/dev/null | head -1)" ]; then
    dirty=" (with uncommitted changes in the working tree)"
fi
python3 - "$WORK/meta.json" <<PY
import json, sys
json.dump({
    "date": "$(date -u '+%Y-%m-%d %H:%M UTC')",
    "nproc": "$(nproc)",
    "cpu": """$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')""",
    "mem": "$(awk '/^MemTotal/ {printf "%.0f GiB RAM", $2 / 1048576}' /proc/meminfo)",
    "kernel": "$(uname -r)",
    "commit": "$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)",
    "dirty": "$dirty",
    "rustc": "$(rustc --version | cut -d' ' -f1-2)",
    "wrk": "$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)",
    "command": "$COMMAND",
    "threads": "$BENCH_THREADS",
    "seconds": "$BENCH_SECONDS",
    "warmup": "$BENCH_WARMUP",
    "rss_mock_kib": "$RSS_MOCK",
    "rss_mock_start_kib": "$RSS_MOCK_START",
    "mock_requests": "$(metric "$WORK/mock.metrics" ghost_requests_total)",
    "hwm_mock_kib": "$HWM_MOCK",
}, open(sys.argv[1], "w"), indent=1)
PY

mkdir -p "$LT/results/raw"
rm -f "$LT/results/raw/"*
cp "$WORK"/*.wrk "$WORK"/*.metrics "$RUNS" "$WORK/meta.json" "$WORK"/scrub-*.json "$LT/results/raw/"
for f in "$WORK"/*.perf "$WORK/library.txt"; do
    if [ -f "$f" ]; then cp "$f" "$LT/results/raw/"; fi
done
docs=()
[ "$WRITE_DOCS" = 1 ] && docs=(--docs "$ROOT/docs/benchmarks.md")
python3 "$LT/report.py" render --dir "$WORK" --out "$LT/results/latest.md" \
    --history "$LT/results/history.jsonl" "${docs[@]}"
log "wrote loadtests/results/latest.md$([ "$WRITE_DOCS" = 1 ] && echo ' and docs/benchmarks.md')"
