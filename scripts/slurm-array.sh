#!/usr/bin/env bash
# ipcrawl on Slurm: a job array, task K crawls --shard K/N into its own DB on
# a shared file system; a second job, run after the array, merges them.
#
#   jid=$(sbatch --parsable scripts/slurm-array.sh [crawl args...])
#   sbatch --dependency=afterok:"$jid" \
#          --wrap "ipcrawl merge -o $HOME/ipcrawl/ipcrawl.redb $HOME/ipcrawl/shard-*.redb"
#
# N is the array's size (SLURM_ARRAY_TASK_COUNT): change `--array` below, or
# give `sbatch --array=0-15 ...`; K is SLURM_ARRAY_TASK_ID. Arguments after
# the script go to every `ipcrawl crawl` (e.g. --threads 32).
# Environment (sbatch passes the submitting shell's environment on):
#   IPCRAWL_CONTACT  required: your e-mail, sent in the User-Agent
#   IPCRAWL_DIR      the shard files' directory on the shared file system
#                    (default $HOME/ipcrawl; the merge job reads it)
#   IPCRAWL          the binary (default: ipcrawl on PATH)
#   GEN_SEEDS        gen-seeds arguments for new shard files, e.g.
#                    "--within 41.0.0.0/8" (default: none; the crawl then
#                    seeds the whole non-reserved space)
#
# Registries limit queries per *source address*: tasks on one node, or on
# nodes behind one NAT, share one limit and crawl no faster than one task.
# Hence one task per node (--exclusive) and nodes with their own egress
# addresses. `sbatch` it again after a failure or a timeout: every shard
# resumes from its DB (even after kill -9), and finished shards ask nothing.
# Tested with a stand-in sbatch (tests/recipes/bin/sbatch) against the local
# RDAP world: tests/integration/recipes.rs.
#
#SBATCH --job-name=ipcrawl
#SBATCH --array=0-7              # K = 0..N-1
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --exclusive              # one crawl per node (= per source address)
#SBATCH --time=24:00:00
#SBATCH --output=ipcrawl-%A_%a.log
set -euo pipefail

n=${SLURM_ARRAY_TASK_COUNT:?run this with sbatch (a job array)}
k=${SLURM_ARRAY_TASK_ID:?run this with sbatch (a job array)}
if ((k >= n)); then
  echo "$0: task id $k is not below the array size $n: use --array=0-$((n - 1))" >&2
  exit 2
fi
ipcrawl=${IPCRAWL:-ipcrawl}
dir=${IPCRAWL_DIR:-$HOME/ipcrawl}
contact=${IPCRAWL_CONTACT:?set IPCRAWL_CONTACT to your e-mail address}
mkdir -p "$dir"
db="$dir/shard-$k.redb"

if [[ -n ${GEN_SEEDS:-} && ! -e $db ]]; then
  # shellcheck disable=SC2086 # GEN_SEEDS is a list of arguments
  "$ipcrawl" --db "$db" gen-seeds $GEN_SEEDS
fi
# Exit 1 (finished, some lookups failed for good) is not a task failure: the
# merged DB lists them and a later crawl on it retries them.
rc=0
"$ipcrawl" --db "$db" crawl --shard "$k/$n" --progress json --contact "$contact" "$@" || rc=$?
if ((rc > 1)); then
  exit "$rc"
fi
"$ipcrawl" --db "$db" stats
