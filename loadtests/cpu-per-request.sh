#!/usr/bin/env bash
# CPU microseconds per request of ghost in each mode (and of its upstream), from
# /proc/PID/stat around one wrk run per mode. Steadier than req/s on a 2-core box
# where wrk, ghost and the upstream compete for the same cores.
#
# Usage: loadtests/cpu-per-request.sh   (after `cargo build --release -p ghost -p ghost-loadtests`)
# Environment: S seconds per mode (default 5), C connections (default 64), GHOST_BIN
# (default target/release/ghost).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
B="${CARGO_TARGET_DIR:-$ROOT/target}/release"
G="${GHOST_BIN:-$B/ghost}"   # the ghost binary to measure (A/B: point at another build)
KEY=bench-key-0123456789
D="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$D"; }
trap cleanup EXIT
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
ticks=$(getconf CLK_TCK)
"$ROOT/scripts/install-wrk.sh"

"$B/bare-server" 127.0.0.1:0 >"$D/bare.out" & PIDS+=($!); BP=$!
until grep -q listening "$D/bare.out" 2>/dev/null; do sleep 0.05; done
UP=$(sed -n 's/listening on //p' "$D/bare.out")
GHOST_LOG_LEVEL=warn GHOST_API_KEY=$KEY "$G" up --data "$D/data" --upstream "http://$UP" \
    --proxy-addr 127.0.0.1:0 --control-addr 127.0.0.1:0 >"$D/g.out" 2>"$D/g.err" & PIDS+=($!); GP=$!
until grep -q "control listening" "$D/g.out" 2>/dev/null; do sleep 0.05; done
PX=$(sed -n 's/ghost proxy listening on http:\/\///p' "$D/g.out")
CX=$(sed -n 's/ghost control listening on http:\/\///p' "$D/g.out")

run() { # label url pid
    local c0 u0 out c1 u1 rps n
    c0=$(cpu "$3"); u0=$(cpu "$BP")
    out=$(wrk -t2 -c"${C:-64}" -d"${S:-5}"s "$2")
    c1=$(cpu "$3"); u1=$(cpu "$BP")
    rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
    n=$(echo "$out" | awk '/requests in/{print $1}')
    awk -v l="$1" -v r="$rps" -v n="$n" -v c=$((c1 - c0)) -v u=$((u1 - u0)) -v t="$ticks" \
        'BEGIN{printf "%-12s %9.0f req/s   server %5.1f µs/req   upstream %5.1f µs/req\n", l, r, c*1e6/t/n, u*1e6/t/n}'
}
mode() { curl -sf -X POST -H "x-api-key: $KEY" "http://$CX/v1/mode" -d "{\"mode\":\"$1\"}" >/dev/null; }

"$G" proxy --data "$D/proxy-data" --upstream "http://$UP" --proxy-addr 127.0.0.1:0 \
    >"$D/p.out" 2>"$D/p.err" & PIDS+=($!); PP=$!
until grep -q "proxy listening" "$D/p.out" 2>/dev/null; do sleep 0.05; done
PPX=$(sed -n 's/ghost proxy listening on http:\/\///p' "$D/p.out")

run bare "http://$UP/users/42" "$BP"
# `ghost proxy` alone (what loadtests/run.sh measures), then `ghost up`, whose
# in-process scrubber also scrubs every capture on the same cores.
run learn-proxy "http://$PPX/users/42" "$PP"
kill "$PP"
run learn-up "http://$PX/users/42" "$GP"
mode PASSTHROUGH; run passthrough "http://$PX/users/42" "$GP"
mode MOCK; run mock "http://$PX/users/42" "$GP"
