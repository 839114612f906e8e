#!/usr/bin/env bash
# The offline rehearsal: start the local RDAP world (five registries on
# 127.0.0.1, networks built from the real delegated statistics), then
# gen-seeds → crawl → coverage → export → lookup → stats against it, and stop
# it. Under ten seconds on 2 cores after the build. Nothing leaves 127.0.0.1.
#
#   scripts/demo.sh [DIR]        # work in DIR (default: a new temp dir)
#   SCOPE="41.0.0.0/8 196.0.0.0/8" scripts/demo.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d -t ipcrawl-demo.XXXXXX)}"
mkdir -p "$work"
scope=(${SCOPE:-1.0.0.0/8 23.0.0.0/8 185.0.0.0/8 200.0.0.0/8})

cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/ipcrawl"
cd "$work"
echo "== working in $work"

scope_args=(); within_args=()
for p in "${scope[@]}"; do scope_args+=(--scope "$p"); within_args+=(--within "$p"); done

echo "== ipcrawl world ${scope_args[*]}"
rm -f urls.txt
"$bin" world "${scope_args[@]}" --urls urls.txt --truth truth.json >/dev/null 2>world.log &
world_pid=$!
trap 'kill $world_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s urls.txt ] && break; sleep 0.1; done
[ -s urls.txt ] || { echo "the world did not start:"; cat world.log; exit 1; }
cat urls.txt
head -1 world.log

registry_args=(); rate_args=()
while IFS== read -r name url; do
  # RDAP from the world, and its delegated statistics (served at each
  # registry's real path) fetched the way a real crawl fetches them.
  registry_args+=(--registry "$name=$url" --stats "$name=$url")
  rate_args+=(--rate "$name=unlimited")
done < urls.txt

db=demo.redb
rm -f "$db"
echo "== ipcrawl gen-seeds ${within_args[*]}"
"$bin" --db "$db" gen-seeds "${within_args[@]}"

echo "== ipcrawl crawl (all five registries and their statistics pointed at the world, no rate limit)"
"$bin" --db "$db" crawl "${registry_args[@]}" "${rate_args[@]}" --progress json --progress-every 2 \
  2> >(cut -c1-160 >&2) > summary.json
python3 -c 'import json,sys; s=json.load(open("summary.json")); print({k: s[k] for k in ("stop","run_queries","elapsed_s","networks","placeholders","failures")})'

echo "== ipcrawl coverage"
"$bin" --db "$db" coverage
"$bin" --db "$db" coverage --json > coverage.json
python3 - <<'PY'
import json
truth = json.load(open("truth.json"))
cov = json.load(open("coverage.json"))
summary = json.load(open("summary.json"))
print(f"covered {cov['addresses']} of the world's {truth['covered']['addresses']} addresses"
      f" ({100 * cov['addresses'] / truth['covered']['addresses']:.2f}%);"
      f" {summary['run_queries']} queries vs the oracle sweep's {truth['oracle']['queries']}")
PY

echo "== ipcrawl export -o networks.jsonl.gz"
"$bin" --db "$db" export -o networks.jsonl.gz
"$bin" --db "$db" export | head -2 | cut -c1-200

first=$(python3 -c 'import json; print(json.load(open("truth.json"))["networks"][0]["start"])')
echo "== ipcrawl lookup $first 8.8.8.8"
"$bin" --db "$db" lookup "$first" 8.8.8.8 | cut -c1-200

echo "== ipcrawl stats"
"$bin" --db "$db" stats | head -12
echo "== done: the world stops now; files are in $work"
