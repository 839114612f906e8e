#!/usr/bin/env bash
# The gate: formatting, lints, docs, tests, benches compile. CI runs this
# (through .ci/run) on a clean clone; run it before every submission.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  # nextest does not run doctests.
  cargo test --workspace --doc --locked --quiet
else
  cargo test --workspace --locked
fi

echo "== fuzz, short run (15 s per parser, debug build; scripts/fuzz.sh SECONDS for long runs)"
FUZZ_PROFILE=debug scripts/fuzz.sh 15

echo "== benches build"
cargo bench --workspace --no-run --locked --quiet

echo "check.sh: all green"
