#!/usr/bin/env bash
# Fresh statistics against the bundle (issue 13.1), release build, over real
# HTTP on 127.0.0.1: one epoch-1 world (the same world a year on: new
# allocations in space the bundled snapshot calls free) crawled three ways,
# each into a fresh DB seeded with the world's scope:
#   fresh    --stats NAME=URL for all five: the statistics the world serves,
#            fetched as a crawl fetches the registries' own;
#   bundle   the bundled snapshot only (--registry without --stats), older
#            than 30 days: its free space probed at every seed;
#   trusted  last year's statistics trusted, as every crawl trusted the
#            bundle before this change: the epoch-0 world's own files
#            (`world --epoch 0 --stats-dir`, the bundle's view of the scope,
#            dated 2026-08-21) given as --delegated with --today 2026-08-22,
#            so that their free space is probed coarsely (an empty answer
#            skips the rest of the /16).
#   baseline (only with BASELINE_BIN=path: an ipcrawl built from before this
#            change, e.g. commit 7cdff74) its plain crawl: the bundle,
#            trusted whatever its age.
# Printed per run: queries, covered addresses against the world's truth,
# new allocations found; last line: the ratios to fresh.
#
#   scripts/bench-fresh.sh                       # six /8s
#   SCOPE="41.0.0.0/8 102.0.0.0/8 185.0.0.0/8 200.0.0.0/8" scripts/bench-fresh.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d -t ipcrawl-fresh.XXXXXX)"
scope=(${SCOPE:-1.0.0.0/8 23.0.0.0/8 41.0.0.0/8 102.0.0.0/8 185.0.0.0/8 200.0.0.0/8})
today=2027-08-22
cd "$root"
cargo build --release --locked --quiet
bin="$root/target/release/ipcrawl"
cd "$work"

scope_args=(); within_args=()
for p in "${scope[@]}"; do scope_args+=(--scope "$p"); within_args+=(--within "$p"); done
"$bin" world --epoch 1 "${scope_args[@]}" --urls urls.txt --truth truth.json >/dev/null 2>world.log &
world_pid=$!
trap 'kill $world_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do [ -s truth.json ] && [ "$(wc -l <urls.txt 2>/dev/null || echo 0)" -ge 5 ] && break; sleep 0.1; done
[ -s truth.json ] || { echo "the world did not start:"; cat world.log; exit 1; }

base=(); stats=()
while IFS== read -r name url; do
  base+=(--registry "$name=$url" --rate "$name=unlimited")
  stats+=(--stats "$name=$url")
done < urls.txt
echo "world: epoch 1, scope ${scope[*]}"

run() { # name, binary, crawl args...
  local name=$1 b=$2; shift 2
  "$b" --db "$name.redb" gen-seeds "${within_args[@]}" >/dev/null
  "$b" --db "$name.redb" crawl "${base[@]}" --progress none "$@" >"$name.json" 2>"$name.err" \
    || { echo "$name crawl failed:"; cat "$name.err"; exit 1; }
  "$b" --db "$name.redb" coverage --json >"$name.coverage.json"
  "$b" --db "$name.redb" export >"$name.jsonl"
}
run fresh "$bin" --today "$today" "${stats[@]}"
run bundle "$bin" --today "$today"
"$bin" world --epoch 0 "${scope_args[@]}" --no-serve --stats-dir old >/dev/null 2>&1
old=(); for f in old/delegated-*; do old+=(--delegated "$f"); done
run trusted "$bin" --today 2026-08-22 "${old[@]}"
runs="fresh bundle trusted"
if [ -n "${BASELINE_BIN:-}" ]; then
  run baseline "$BASELINE_BIN"
  runs="$runs baseline"
fi
export runs

python3 - <<'PY'
import json
truth = json.load(open("truth.json"))
new = {(b["start"], b["end"]) for e in truth["epochs"] for b in e["blocks"] if b["change"] == "new"}
held = truth["covered"]["addresses"]
print(f"truth: {len(truth['networks'])} networks, {held} held addresses, {len(new)} new allocations, "
      f"oracle sweep {truth['oracle']['queries']} queries")
res = {}
import os
for name in os.environ["runs"].split():
    s = json.load(open(f"{name}.json"))
    cov = json.load(open(f"{name}.coverage.json"))
    nets = set()
    for line in open(f"{name}.jsonl"):
        r = json.loads(line)
        nets.add((r["start"], r["end"]))
    found = len(new & nets)
    origins = sorted({v["origin"] for v in s.get("statistics", {"-": {"origin": "bundled"}}).values()})
    res[name] = (s["run_queries"], cov["addresses"], found)
    print(f"{name:8} statistics {'/'.join(origins):8}  queries {s['run_queries']:7}  "
          f"covered {cov['addresses']:10} of {held} ({100 * cov['addresses'] / held:.3f}%, "
          f"missed {held - cov['addresses']})  new allocations found {found} of {len(new)}  "
          f"wall {s['elapsed_s']} s")
fq = res["fresh"][0]
print("ratios to fresh: " + "; ".join(
    f"{n} queries {q / fq:.2f}x, coverage {100 * a / held:.3f}%, new found {f}/{len(new)}"
    for n, (q, a, f) in res.items()))
PY
