#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the tests (never a machine's
# own cluster). Idempotent: `start` starts it once and prints its admin URL;
# later calls print the URL of the running one. `stop` stops it.
#
#   scripts/postgres.sh start   -> postgres://postgres@127.0.0.1:PORT/postgres
#   scripts/postgres.sh stop
#
# The cluster lives in ${GHOST_PG_DIR:-.ci-tools/postgres} and listens on
# ${GHOST_PG_PORT:-54329}, trust auth on loopback only, fsync off (test data).
# PostgreSQL comes from Debian (postgresql-15, or any installed major); it is
# installed with apt-get when no server binaries are found.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${GHOST_PG_DIR:-$ROOT/.ci-tools/postgres}"
PORT="${GHOST_PG_PORT:-54329}"
URL="postgres://postgres@127.0.0.1:$PORT/postgres"
CMD="${1:-start}"

pg_bin() {
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
    if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
        echo "installing PostgreSQL from Debian" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
        d="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
    fi
    echo "$d"
}

# As root, the server runs as `postgres` (it refuses to run as root).
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

BIN="$(pg_bin)"
case "$CMD" in
start)
    mkdir -p "$DIR"
    exec 9>"$DIR/.lock"
    flock 9
    if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
        echo "$URL"
        exit 0
    fi
    if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; fi
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
        as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
    fi
    # A stale pid file from a killed run would stop pg_ctl from starting.
    if [ -f "$DIR/data/postmaster.pid" ] && ! as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
        rm -f "$DIR/data/postmaster.pid"
    fi
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" </dev/null >/dev/null 2>&1 9>&-
    echo "$URL"
    ;;
stop)
    if [ -f "$DIR/data/PG_VERSION" ]; then
        as_pg "$BIN/pg_ctl" -D "$DIR/data" -w stop -m fast >/dev/null 2>&1 || true
    fi
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
