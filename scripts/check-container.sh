#!/usr/bin/env bash
# What can be checked of the Containerfile without a container engine (there
# is none on the development machines or CI): the toolchain it builds with
# is the project's, builder and runtime share a Debian release (so the
# binary's glibc is there), the path it copies the binary from is where the
# build puts it, and its build stage's RUN commands succeed in a clean clone
# of the committed tree minus the .dockerignore'd paths (so the image builds
# from what is in git, with the locked dependencies). Not checked: pulling
# the base images, apt-get in the runtime stage, running the image.
#
#   scripts/check-container.sh
#
# CARGO_TARGET_DIR is shared with this checkout's target/ (dependencies
# compiled once); the clone's own crates are built from the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
cf=Containerfile
fail() { echo "check-container: $*" >&2; exit 1; }

builder=$(sed -n '1,/^FROM /{s/^FROM \([^ ]*\) AS build$/\1/p}' "$cf")
runtime=$(grep '^FROM ' "$cf" | sed -n '2s/^FROM \([^ ]*\).*/\1/p')
[[ -n $builder && -n $runtime ]] || fail "expected two stages: FROM ... AS build, then the runtime FROM"
want=$(rustc --version | sed -E 's/^rustc ([0-9]+\.[0-9]+).*/\1/')
[[ $builder =~ rust:([0-9]+\.[0-9]+)-([a-z]+)$ ]] || fail "builder $builder is not rust:MAJOR.MINOR-DEBIAN"
[[ ${BASH_REMATCH[1]} == "$want" ]] || fail "builder uses Rust ${BASH_REMATCH[1]}, the project $want"
release=${BASH_REMATCH[2]}
[[ $runtime == *debian:$release-slim ]] || fail "runtime $runtime is not debian:$release-slim (the builder's release)"
msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -1)
[[ $(printf '%s\n%s\n' "$msrv" "$want" | sort -V | head -1) == "$msrv" ]] || fail "rust-version $msrv is newer than the builder's $want"

workdir=$(awk '/^FROM /{n++} n==1 && /^WORKDIR /{print $2}' "$cf")
copy_from=$(sed -n 's/^COPY --from=build \([^ ]*\) .*/\1/p' "$cf")
[[ $copy_from == "$workdir/target/release/ipcrawl" ]] || fail "copies $copy_from, the build writes $workdir/target/release/ipcrawl"
mapfile -t runs < <(awk '/^FROM /{n++} n==1 && /^RUN /{sub(/^RUN /, ""); print}' "$cf")
((${#runs[@]} > 0)) || fail "the build stage has no RUN command"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q --no-hardlinks "$repo" "$tmp/src"
while read -r pat; do
  [[ -z $pat || $pat == \#* ]] && continue
  (cd "$tmp/src" && shopt -s globstar nullglob && rm -rf -- $pat)
done <.dockerignore
for cmd in "${runs[@]}"; do
  echo "== (clean clone) $cmd"
  (cd "$tmp/src" && CARGO_TARGET_DIR="$repo/target" bash -c "$cmd")
done
"$repo/target/release/ipcrawl" --version
echo "check-container: the Containerfile's build stage works on a clean clone (no container engine here: images not built)"
