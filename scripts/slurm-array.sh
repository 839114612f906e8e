#!/usr/bin/env bash
# ipcrawl on Slurm: a job array, task K crawls --shard K/N into its own DB on
# a shared file system; a second job, run after the array, merges them.
#
#   sbatch scripts/slurm-array.sh                       # the N shards
#   sbatch --dependency=afterany:<array job id> \
#          --wrap 'ipcrawl merge -o $HOME/ipcrawl/ipcrawl.redb $HOME/ipcrawl/shard-*.redb'
#
# Registries limit queries per *source address*: tasks on one node, or on
# nodes behind one NAT, share one limit and crawl no faster than one task.
# Hence one task per node (--exclusive) and nodes with their own egress
# addresses. `sbatch` it again after a failure or a timeout: every shard
# resumes from its DB (even after kill -9), and finished shards ask nothing.
#
#SBATCH --job-name=ipcrawl
#SBATCH --array=0-7              # K = 0..N-1; N below must match
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --exclusive              # one crawl per node (= per source address)
#SBATCH --time=24:00:00
#SBATCH --output=ipcrawl-%A_%a.log
set -euo pipefail

n=${SLURM_ARRAY_TASK_COUNT:-8}
k=${SLURM_ARRAY_TASK_ID:?run this with sbatch --array}
dir=${IPCRAWL_DIR:-$HOME/ipcrawl}          # shared file system, seen by the merge job
mkdir -p "$dir"

# Exit 1 (finished, some lookups failed for good) is not a task failure: the
# merged DB lists them and a later crawl on it retries them.
rc=0
ipcrawl --db "$dir/shard-$k.redb" crawl --shard "$k/$n" --progress json \
  --contact "${IPCRAWL_CONTACT:?set IPCRAWL_CONTACT to your e-mail address}" || rc=$?
if ((rc > 1)); then
  exit "$rc"
fi
ipcrawl --db "$dir/shard-$k.redb" stats
