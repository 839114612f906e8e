#!/usr/bin/env bash
# ipcrawl on N hosts over ssh with GNU parallel: host number K crawls
# --shard K/N in its home directory, then the shard DBs are copied back here
# and merged.
#
#   scripts/parallel-ssh.sh hosts.txt [crawl args...]
#
# hosts.txt: one ssh destination per line (user@host; blank lines and #
# comments skipped), each with its own public source address — registries
# limit queries per source address, so two hosts behind one NAT share one
# limit. `ipcrawl` must be on each host's PATH (or set COPY_BINARY=path/to/ipcrawl
# to copy it there first).
# Environment:
#   IPCRAWL_CONTACT  required: your e-mail, sent in the User-Agent
#   OUT              the merged file (default ipcrawl.redb)
#   DIR              local copies of the shards (default shards/)
#   IPCRAWL          the local binary that merges (default: ipcrawl on PATH)
#   GEN_SEEDS        gen-seeds arguments for new shard files on the hosts,
#                    e.g. "--within 41.0.0.0/8" (default: none)
#
# A dropped connection stops that host's crawl: run the same command again;
# every shard resumes from its DB and finished shards ask nothing.
# Tested with stand-in ssh/scp (tests/recipes/bin/) against the local RDAP
# world: tests/integration/recipes.rs.
set -euo pipefail

if [[ $# -lt 1 || ! -r $1 ]]; then
  echo "usage: $0 HOSTS_FILE [crawl args...]" >&2
  exit 2
fi
command -v parallel >/dev/null || { echo "$0: GNU parallel is not installed (apt-get install parallel)" >&2; exit 2; }
mapfile -t hosts < <(grep -v '^[[:space:]]*\(#\|$\)' "$1")
shift
n=${#hosts[@]}
((n > 0)) || { echo "$0: no hosts in the hosts file" >&2; exit 2; }
contact=${IPCRAWL_CONTACT:?set IPCRAWL_CONTACT to your e-mail address}
dir=${DIR:-shards}
out=${OUT:-ipcrawl.redb}
ipcrawl=${IPCRAWL:-ipcrawl}
mkdir -p "$dir"
# Each crawl argument (and the contact) is quoted twice: once for the local
# shell that GNU parallel runs, once for the remote shell ssh hands it to.
twice() { printf '%q' "$(printf '%q' "$1")"; }
extra=""
for a in "$@"; do extra+=" $(twice "$a")"; done
seeds=""
if [[ -n ${GEN_SEEDS:-} ]]; then
  read -ra words <<<"$GEN_SEEDS"
  for a in "${words[@]}"; do seeds+=" $(twice "$a")"; done
fi

run=ipcrawl
if [[ -n ${COPY_BINARY:-} ]]; then
  parallel -j0 --tag scp -q "$COPY_BINARY" {}:ipcrawl ::: "${hosts[@]}"
  run=./ipcrawl
fi

# "K host" per line: host number K crawls shard K of N. Exit 1 (finished,
# some lookups failed for good) counts as done; anything else fails the run.
for ((k = 0; k < n; k++)); do echo "$k ${hosts[$k]}"; done >"$dir/plan.txt"
if [[ -n $seeds ]]; then
  parallel -j0 --tag --colsep ' ' -a "$dir/plan.txt" \
    "ssh {2} [ -e shard-{1}.redb ] '||' $run --db shard-{1}.redb gen-seeds$seeds"
fi
cq=$(twice "$contact")
parallel -j0 --tag --line-buffer --colsep ' ' -a "$dir/plan.txt" \
  "ssh -o ServerAliveInterval=60 {2} $run --db shard-{1}.redb crawl --shard {1}/$n --progress json --contact $cq$extra || [ \$? -le 1 ]"
parallel -j0 --tag --colsep ' ' -a "$dir/plan.txt" "scp -q {2}:shard-{1}.redb $dir/shard-{1}.redb"
shards=()
for ((k = 0; k < n; k++)); do shards+=("$dir/shard-$k.redb"); done
"$ipcrawl" merge -o "$out" "${shards[@]}"
