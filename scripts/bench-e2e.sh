#!/usr/bin/env bash
# End-to-end figures of issue 3, with /usr/bin/time -v on the real binary:
# gen-seeds of the default /24 grid (time, DB size), coverage over a DB of
# 1,000,000 networks, and a crawl's start-up on that DB (loading the known set
# from redb). The 1M-network DB comes from benches/store.rs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d -t ipcrawl-e2e.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cd "$root"
cargo build --release --locked --quiet
bin="$root/target/release/ipcrawl"
t() { /usr/bin/time -f "  %e s wall, %M KB max RSS" "$@"; }

echo "== gen-seeds (default /24 grid) into a fresh DB"
t "$bin" --db "$work/seeds.redb" gen-seeds
echo "  DB size: $(stat -c %s "$work/seeds.redb") bytes"

echo "== benches/store.rs: a DB of 1,000,000 networks"
IPCRAWL_BENCH_DB="$work/m1.redb" cargo bench --bench store --locked 2>&1 | grep -v '^\s*\(Compiling\|Finished\|Running\)'

echo "== coverage over it"
t "$bin" --db "$work/m1.redb" coverage --json >/dev/null
echo "== stats over it"
t "$bin" --db "$work/m1.redb" stats >/dev/null

echo "== crawl start-up on it (default seeds, known set from redb, one query to a closed port)"
closed=()
for r in arin ripe apnic lacnic afrinic; do closed+=(--registry "$r=http://127.0.0.1:9/"); done
"$bin" --db "$work/m1.redb" gen-seeds >/dev/null
t "$bin" --db "$work/m1.redb" crawl "${closed[@]}" --max-queries 1 --attempts 1 --progress none >/dev/null || true
