#!/usr/bin/env bash
# RFC 9910 search benchmark (issue 11) against the local world, release
# build, real HTTP on 127.0.0.1. One world (default: the five default /8s;
# ARIN and RIPE NCC serve search, at a result limit where RIPE's "Too Many
# Rows" refusals and ARIN's truncations bite), four crawls of it:
#   depth-all + search, depth-all without search (the baseline),
#   coverage + search, coverage without search (the baseline).
# Prints per crawl: networks stored, the world's networks, requests per
# registry, and the ratios: arin+ripe requests / their top-level networks
# (target <= 1.3), search vs sweep queries.
#   IPCRAWL_BENCH_SCOPE="1.0.0.0/8 23.0.0.0/8 ..."   other scope
#   IPCRAWL_BENCH_LIMIT=1000                          other search limit
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
B=$PWD/target/release/ipcrawl
D=$(mktemp -d)
trap 'kill $WP 2>/dev/null || true; rm -rf "$D"' EXIT
SCOPE=${IPCRAWL_BENCH_SCOPE:-"1.0.0.0/8 23.0.0.0/8 41.0.0.0/8 185.0.0.0/8 200.0.0.0/8"}
LIMIT=${IPCRAWL_BENCH_LIMIT:-1000}
WS=(); GS=()
for s in $SCOPE; do WS+=(--scope "$s"); GS+=(--within "$s"); done
RATE=()
for r in arin ripe apnic lacnic afrinic; do RATE+=(--rate "$r=unlimited"); done

world() {
  rm -f "$D/urls"
  "$B" world "${WS[@]}" --search-limit "$LIMIT" --truth "$D/truth.json" --urls "$D/urls" \
    >/dev/null 2>"$D/world.err" &
  WP=$!
  until [ -s "$D/urls" ] && [ "$(wc -l <"$D/urls")" -ge 5 ]; do sleep 0.2; done
  REG=()
  while read -r u; do REG+=(--registry "$u"); done <"$D/urls"
}

stop_world() {
  kill -INT "$WP"; wait "$WP" || true
  tail -1 "$D/world.err" >"$D/$1.world.json"
}

run() {
  local name=$1; shift
  world
  "$B" --db "$D/$name.redb" gen-seeds "${GS[@]}" >/dev/null
  local t0 t1
  t0=$(date +%s.%N)
  "$B" --db "$D/$name.redb" crawl "${REG[@]}" "${RATE[@]}" --progress none "$@" >"$D/$name.sum"
  t1=$(date +%s.%N)
  stop_world "$name"
  "$B" --db "$D/$name.redb" export >"$D/$name.jsonl"
  echo "$name $(echo "$t1 - $t0" | bc)" >>"$D/times"
}

run all-search --depth all
run all-sweep --depth all --search off
run cov-search
run cov-sweep --search off

python3 - "$D" <<'PY'
import json, sys
d = sys.argv[1]
t = json.load(open(f"{d}/truth.json"))
truth = {(n["start"], n["end"], n["registry"]) for n in t["networks"]}
by = t["by_registry"]
times = dict(l.split() for l in open(f"{d}/times"))
top = by["arin"]["top_level"] + by["ripe"]["top_level"]
print(f"world: {len(truth)} networks; arin {by['arin']['networks']} ({by['arin']['top_level']} top-level), "
      f"ripe {by['ripe']['networks']} ({by['ripe']['top_level']} top-level), "
      f"covered {t['covered']['addresses']} addresses")
res = {}
for name in ["all-search", "all-sweep", "cov-search", "cov-sweep"]:
    w = json.load(open(f"{d}/{name}.world.json"))
    got = {(r["start"], r["end"], r["registry"]) for r in map(json.loads, open(f"{d}/{name}.jsonl"))}
    req = {r: w[r]["requests"] for r in w}
    total = sum(req.values())
    ar = req["arin"] + req["ripe"]
    mine = {k for k in truth if k[2] in ("arin", "ripe")}
    res[name] = (total, ar)
    print(f"{name:11} stored {len(got):7} (arin+ripe {len(got & mine)}/{len(mine)}, extra {len(got - truth)}) "
          f"requests {total:7} arin {req['arin']} ripe {req['ripe']} apnic {req['apnic']} lacnic {req['lacnic']} "
          f"afrinic {req['afrinic']}; searches arin {w['arin']['searches']} ripe {w['ripe']['searches']}, "
          f"cut arin {w['arin']['search_cut']} ripe {w['ripe']['search_cut']}; {float(times[name]):.1f} s; "
          f"arin+ripe requests / their top-level {ar / top:.3f}")
print(f"ratios: depth-all search/sweep requests {res['all-search'][0] / res['all-sweep'][0]:.3f}, "
      f"coverage search/sweep requests {res['cov-search'][0] / res['cov-sweep'][0]:.3f}, "
      f"depth-all arin+ripe requests per top-level {res['all-search'][1] / top:.3f} (target <= 1.3)")
PY
