#!/usr/bin/env bash
# Runs the trie benchmark (benches/trie.rs: ipcrawl vs prefix-trie 0.10.1 in
# one run) and prints its table, then the `ratios: …` line last.
#
# Usage: scripts/bench-trie.sh [--fresh]
#   --fresh  first clone the current commit into a temporary directory and
#            run there (proves the bench needs nothing but the repository).
# Flags come from .cargo/config.toml (x86-64-v2 on x86_64, so POPCNT); an
# exported RUSTFLAGS would override them for both sides alike.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ "${1:-}" == "--fresh" ]]; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    git clone --quiet --no-hardlinks "$root" "$tmp/ipcrawl"
    git -C "$tmp/ipcrawl" checkout --quiet "$(git rev-parse HEAD)"
    cd "$tmp/ipcrawl"
fi

out="$(mktemp)"
trap 'rm -f "$out"; [[ -n "${tmp:-}" ]] && rm -rf "$tmp"' EXIT
cargo bench --bench trie 2>&1 | tee "$out"
ratios="$(grep '^ratios:' "$out" | tail -n 1)"
if [[ -z "$ratios" ]]; then
    echo "bench-trie: no ratios line in the benchmark output" >&2
    exit 1
fi
echo "$ratios"
