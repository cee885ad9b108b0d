#!/usr/bin/env bash
# Instructions executed by ghost per request, counted by valgrind's callgrind:
# repeatable for the same binary and inputs whatever else the machine does, so
# it is how A/B comparisons are made on a noisy box (wall-clock req/s and CPU
# time move ±20% between runs here; this moves by well under 1%).
#
# ghost runs under callgrind twice per mode, serving N1 and then N2 keep-alive
# requests from one client; (Ir(N2) - Ir(N1)) / (N2 - N1) cancels start-up and
# shutdown. MOCK serves one recorded GET; LEARN (`ghost proxy`) forwards it to
# bare-server and records it. ghost runs one request thread (`--proxy-threads
# 1`) and callgrind counts each thread apart: "request thread" is that thread
# alone (the busiest one), the request path with nothing else mixed in;
# "all threads" adds the publisher, the log writer and ghost's periodic tasks,
# whose count grows with wall time under valgrind and so is noisier.
#
# Usage: loadtests/instructions-per-request.sh   (after `cargo build --release -p ghost -p ghost-loadtests`)
# Environment: GHOST_BIN (default target/release/ghost), N1 (default 500), N2 (default 2500).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
B="${CARGO_TARGET_DIR:-$ROOT/target}/release"
G="${GHOST_BIN:-$B/ghost}"
N1="${N1:-500}"
N2="${N2:-2500}"
command -v valgrind >/dev/null || { echo "valgrind is needed (Debian: apt-get install valgrind)" >&2; exit 1; }
D="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$D"; }
trap cleanup EXIT

"$B/bare-server" 127.0.0.1:0 >"$D/bare.out" & PIDS+=($!)
until grep -q listening "$D/bare.out" 2>/dev/null; do sleep 0.05; done
UP=$(sed -n 's/listening on //p' "$D/bare.out")

# N keep-alive GETs of /users/42 from one connection; fails on any non-200.
client() { # addr n
    python3 - "$1" "$2" <<'PY'
import http.client, sys
host, port = sys.argv[1].rsplit(":", 1)
c = http.client.HTTPConnection(host, int(port))
for _ in range(int(sys.argv[2])):
    c.request("GET", "/users/42")
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"status {r.status}")
PY
}

# Runs `ghost ARGS` under callgrind on a fresh copy of a data dir, serves N
# requests, stops it; prints the total Ir of every thread.
counted() { # n template-data-dir ghost-args...
    local n="$1" data="$D/run"; shift
    rm -rf "$data" "$D/cg.out"* "$D/g.out"
    mkdir -p "$1"; cp -r "$1" "$data"; shift
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$D/cg.out" \
        "$G" "$@" --data "$data" --proxy-addr 127.0.0.1:0 --proxy-threads 1 >"$D/g.out" 2>"$D/g.err" &
    local pid=$!
    until grep -q "proxy listening" "$D/g.out" 2>/dev/null; do sleep 0.1; done
    local px
    px=$(sed -n 's/ghost proxy listening on http:\/\///p' "$D/g.out")
    client "$px" "$n"
    kill -TERM "$pid"
    wait "$pid" || true
    # Per thread file: its total; print "busiest-thread all-threads".
    local f t max=0 sum=0
    for f in "$D/cg.out"*; do
        t=$(awk '/^(summary|totals):/ {print $2; exit}' "$f"); t=${t:-0}
        sum=$((sum + t))
        if [ "$t" -gt "$max" ]; then max=$t; fi
    done
    echo "$max $sum"
}

per_request() { # label data-dir ghost-args...
    local label="$1"; shift
    local a b
    a=$(counted "$N1" "$@")
    b=$(counted "$N2" "$@")
    awk -v l="$label" -v a="$a" -v b="$b" -v n1="$N1" -v n2="$N2" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        printf "%-6s request thread %7.0f instructions/request   all threads %7.0f\n", l, (y[1] - x[1]) / (n2 - n1), (y[2] - x[2]) / (n2 - n1)
    }'
}

# MOCK: record /users/42 once natively, switch to MOCK, then count.
KEY=bench-key-0123456789
GHOST_LOG_LEVEL=warn GHOST_API_KEY=$KEY "$G" up --data "$D/mock" --upstream "http://$UP" \
    --proxy-addr 127.0.0.1:0 --control-addr 127.0.0.1:0 >"$D/rec.out" 2>/dev/null & REC=$!
until grep -q "control listening" "$D/rec.out" 2>/dev/null; do sleep 0.05; done
PX=$(sed -n 's/ghost proxy listening on http:\/\///p' "$D/rec.out")
CX=$(sed -n 's/ghost control listening on http:\/\///p' "$D/rec.out")
client "$PX" 1
curl -sf -X POST -H "x-api-key: $KEY" "http://$CX/v1/mode" -d '{"mode":"MOCK"}' >/dev/null
kill -TERM "$REC"; wait "$REC" || true

export GHOST_LOG_LEVEL=warn
per_request mock "$D/mock" proxy
per_request learn "$D/learn" proxy --upstream "http://$UP"
