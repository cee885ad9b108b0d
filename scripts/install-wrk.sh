#!/usr/bin/env bash
# Installs wrk (the HTTP load generator loadtests/run.sh drives) when it is missing.
# Idempotent and quiet: does nothing when wrk is already on PATH.
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -qq wrk >/dev/null 2>&1; then
    $sudo apt-get update -qq >/dev/null
    $sudo apt-get install -y -qq wrk >/dev/null
fi
if ! command -v wrk >/dev/null 2>&1; then
    echo "install-wrk.sh: wrk is still not on PATH after apt-get install" >&2
    exit 1
fi
