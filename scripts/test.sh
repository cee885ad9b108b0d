#!/usr/bin/env bash
# The test command (README): formatting, lints, then every test in the workspace.
# Needs only the Rust toolchain: the tests install and start what they need
# through scripts/ (a tansu broker per test, one throwaway PostgreSQL cluster
# with a database per test).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy (deny warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> tests"
# A fresh PostgreSQL cluster for this run (tests create their own databases).
scripts/postgres.sh stop
rm -rf .ci-tools/postgres
trap 'scripts/postgres.sh stop' EXIT
if cargo nextest --version >/dev/null 2>&1; then
    # nextest does not run doc tests: they go first, so the last summary
    # printed is the one of the real suite.
    cargo test --workspace --locked --doc
    cargo nextest run --workspace --locked --no-fail-fast
else
    cargo test --workspace --locked --no-fail-fast
fi
