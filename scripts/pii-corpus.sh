#!/usr/bin/env bash
# Writes the labelled PII corpus (JSON Lines, see scripts/pii_corpus.py) to OUT_FILE.
# Installs the pinned Faker into a private virtualenv under the cargo target dir
# (reused while it holds the pinned version; concurrent runs wait on a lock) and
# runs the generator. Stdout carries only the generator's one-line summary; pip's
# output goes to stderr. The output is byte-identical across runs.
set -euo pipefail

usage() { echo "usage: $0 OUT_FILE" >&2; exit 2; }
[ $# -eq 1 ] && [ -n "$1" ] || usage
OUT="$1"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FAKER_VERSION="40.63.0"
# sha256 of faker-40.63.0-py3-none-any.whl on PyPI (pip checks it).
FAKER_SHA256="36627c20b575b4138f54b6c21f8703e9ab122fd487aca11319beec2aa6ca7232"

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p "$TARGET"
TARGET="$(cd "$TARGET" && pwd)"
VENV="$TARGET/pii-corpus-venv"
PY="$VENV/bin/python"

export PYTHONNOUSERSITE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
export TZ=UTC PYTHONHASHSEED=0 LC_ALL=C.UTF-8

has_pin() {
    [ -x "$PY" ] && "$PY" -c '
import sys
try:
    import faker
except Exception:
    sys.exit(1)
sys.exit(0 if faker.VERSION == sys.argv[1] else 1)' "$FAKER_VERSION" 2>/dev/null
}

# One run installs, the others wait; the lock is held for the whole run so no
# run rebuilds the venv under another one's feet.
exec 9>"$VENV.lock"
flock 9

if ! has_pin; then
    echo "pii-corpus: installing Faker==$FAKER_VERSION into $VENV" >&2
    if ! python3 -m venv --clear "$VENV" >&2; then
        # A fresh Debian machine may lack the venv module: it comes from Debian.
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >&2
            python3 -m venv --clear "$VENV" >&2
        else
            echo "pii-corpus: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2
            exit 1
        fi
    fi
    REQ="$(mktemp)"
    trap 'rm -f "$REQ"' EXIT
    echo "Faker==$FAKER_VERSION --hash=sha256:$FAKER_SHA256" >"$REQ"
    "$PY" -m pip install --quiet --no-deps --only-binary=:all: --require-hashes -r "$REQ" >&2
    has_pin || { echo "pii-corpus: Faker==$FAKER_VERSION not importable after install" >&2; exit 1; }
fi

"$PY" "$ROOT/scripts/pii_corpus.py" --out "$OUT"
