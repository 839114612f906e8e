#!/usr/bin/env bash
# Fuzz the four parsers that read untrusted bytes: runs each target of
# tests/fuzz/main.rs for SECONDS (default 60) and prints its executions.
#
#   scripts/fuzz.sh [SECONDS]            # release build (about 10x the cases)
#   FUZZ_PROFILE=debug scripts/fuzz.sh 15  # reuse the test build (CI's short run)
#   IPCRAWL_FUZZ_SEED=N scripts/fuzz.sh    # replay a run (the seed is printed)
#
# Targets: rdap (rdap::parse::parse_network, arbitrary queried ranges),
# bootstrap (Bootstrap::from_json, then registry_of/resolve), delegated
# (delegated::parse), dump (dump::read_slices, both passes of the bulk-dump
# reader). proptest mutates a corpus seeded with the real samples
# (tests/fixtures/rdap/, the bundled bootstrap and delegated snapshot,
# tests/fixtures/dumps/); each case must not panic, must finish in 2 s and
# allocate at most 256 bytes per input byte + 4 MiB. cargo-fuzz/libFuzzer
# would need a nightly compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
profile="${FUZZ_PROFILE:-release}"
flags=(--locked --quiet --test fuzz)
if [ "$profile" = release ]; then
  flags+=(--release)
fi
export IPCRAWL_FUZZ_SECS="$secs"
export IPCRAWL_FUZZ_CASES="${IPCRAWL_FUZZ_CASES:-500}"
cargo test "${flags[@]}" --no-run
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
for target in rdap bootstrap delegated dump; do
  if cargo test "${flags[@]}" -- --exact "fuzz_${target}_parser" --nocapture >"$log" 2>&1; then
    grep -E '^fuzz ' "$log"
  else
    status=1
    echo "fuzz $target: FAILED"
    grep -vE '^\s+[0-9]+: |^\s+at ' "$log" | tail -40
  fi
done
exit "$status"
