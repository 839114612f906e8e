#!/usr/bin/env bash
# Runs N shards of one crawl on this machine, each into shard-K.redb, then
# merges them into merged.redb. For rehearsals and tests (e.g. against
# `ipcrawl world`): every shard shares this machine's source address, so
# against the real registries N shards here are no faster than one crawl —
# they share one rate limit per registry. To go faster, run the shards on N
# machines (see scripts/k8s-indexed-job.yaml, slurm-array.sh, parallel-ssh.sh).
#
#   scripts/shards-local.sh N [crawl args...]
#
# Everything after N goes to every `ipcrawl crawl` (e.g. --registry NAME=URL
# and --rate NAME=unlimited for the local world). Environment:
#   IPCRAWL    the binary (default: ipcrawl on PATH, else target/release/ipcrawl)
#   DIR        where shard-K.redb and the merged file go (default: .)
#   OUT        the merged file (default: $DIR/merged.redb)
#   GEN_SEEDS  gen-seeds arguments for new shard files, e.g. "--within 1.0.0.0/8"
#              (default: none; a crawl then seeds the whole non-reserved space)
# Running it again resumes every unfinished shard, then merges again.
# Signals: one Ctrl-C (SIGINT), SIGTERM or SIGHUP is passed on once to every
# shard crawl, which stops cleanly and writes its summary; the script waits
# for all of them and exits 128 + the signal (130, 143, 129), like a crawl.
# A second signal is passed on too: the crawls then exit at once.
# Exit: 0 merged; 1 merged, but some lookups failed for good (the next run
# retries them); 2 a shard or the merge failed (nothing merged); 130/143/129
# interrupted by SIGINT/SIGTERM/SIGHUP (run the same command again to resume).
set -uo pipefail

if [[ $# -lt 1 || ! $1 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 N [crawl args...]   (N: number of shards, 1 or more)" >&2
  exit 2
fi
n=$1
shift
here=$(cd "$(dirname "$0")/.." && pwd)
ipcrawl=${IPCRAWL:-$(command -v ipcrawl || echo "$here/target/release/ipcrawl")}
dir=${DIR:-.}
out=${OUT:-$dir/merged.redb}
mkdir -p "$dir"
if [[ ! -x $ipcrawl ]]; then
  echo "$0: no ipcrawl binary at $ipcrawl: build it (cargo build --release) or set IPCRAWL" >&2
  exit 2
fi

for ((k = 0; k < n; k++)); do
  db="$dir/shard-$k.redb"
  if [[ -n ${GEN_SEEDS:-} && ! -e $db ]]; then
    # shellcheck disable=SC2086 # GEN_SEEDS is a list of arguments
    "$ipcrawl" --db "$db" gen-seeds $GEN_SEEDS >/dev/null || exit 2
  fi
done

# Each shard crawl runs in its own process group (job control on while they
# start), so a Ctrl-C at the terminal reaches this script only, and forward()
# passes it on to each crawl exactly once. (Without it the crawls would get
# the terminal's SIGINT and the forwarded one: two signals, an abort.)
pids=()
stopped=""
signals=0
forward() {
  stopped=$1
  signals=$((signals + 1))
  ((${#pids[@]})) && kill -"$1" "${pids[@]}" 2>/dev/null
}
trap 'forward INT' INT
trap 'forward TERM' TERM
trap 'forward HUP' HUP
set -m
for ((k = 0; k < n; k++)); do
  [[ -n $stopped ]] && break
  "$ipcrawl" --db "$dir/shard-$k.redb" crawl --shard "$k/$n" --progress none "$@" >"$dir/shard-$k.summary.json" &
  pids+=("$!")
done
set +m

worst=0
for k in "${!pids[@]}"; do
  # A signal interrupts `wait` (the trap runs): wait again for the crawl's
  # own exit status.
  while :; do
    seen=$signals
    wait "${pids[$k]}"
    rc=$?
    ((signals == seen)) && break
  done
  echo "shard $k/$n: exit $rc (summary in $dir/shard-$k.summary.json)" >&2
  ((rc > worst)) && worst=$rc
done
if [[ -n $stopped ]]; then
  code=$((128 + $(kill -l "$stopped")))
  echo "$0: interrupted (SIG$stopped); every shard stored what it had: run the same command again to resume" >&2
  exit "$code"
fi
if ((worst > 1)); then
  echo "$0: a shard did not finish (exit $worst); fix the cause and run again to resume; nothing merged" >&2
  exit 2
fi

shards=()
for ((k = 0; k < n; k++)); do shards+=("$dir/shard-$k.redb"); done
"$ipcrawl" merge -o "$out" "${shards[@]}" || exit 2
exit "$worst"
