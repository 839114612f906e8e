#!/usr/bin/env bash
# Crawl benchmark against the local RDAP world (in one process, real HTTP on
# 127.0.0.1): queries vs the world's oracle sweep, answers/s, the 2016
# strategy for comparison, faults, and wall time vs the rate bound.
# Takes about two minutes on 2 cores. The last line holds the ratios.
#   IPCRAWL_BENCH_SCOPE=1.0.0.0/8,185.0.0.0/8   other scope
#   IPCRAWL_BENCH_ONLY=sweep,faults            some scenarios only
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench crawl --locked 2>&1 | grep -v '^\s*\(Compiling\|Finished\|Running\)'
