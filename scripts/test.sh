#!/usr/bin/env bash
# The test command (README): formatting, lints, then every test in the workspace.
# Needs only the Rust toolchain; later services (Kafka-protocol broker, Postgres)
# are installed and started by scripts/ from here when tests need them.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy (deny warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> tests"
if cargo nextest --version >/dev/null 2>&1; then
    # nextest does not run doc tests: they go first, so the last summary
    # printed is the one of the real suite.
    cargo test --workspace --locked --doc
    cargo nextest run --workspace --locked --no-fail-fast
else
    cargo test --workspace --locked --no-fail-fast
fi
