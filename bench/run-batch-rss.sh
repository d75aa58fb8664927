#!/bin/sh
# Peak RSS of a 10,000- and a 100,000-object batch, each in its own process (a process's
# peak never goes down). Objects are made once in a temporary folder (KEEP=1 keeps it).
# Usage: bench/run-batch-rss.sh [BUILD_DIR] [SIZES...]
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
sizes=${*:-10000 100000}
bin=$(find "$build" -name bench_batch_rss -type f -perm -u+x | head -n 1)
[ -n "$bin" ] || { echo "bench_batch_rss not built: ninja -C $build bench_batch_rss" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/imagepipe-batch-rss-XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
for n in $sizes; do
  "$bin" "$n" "$work/$n"
  [ "${KEEP:-0}" = 1 ] || rm -rf "$work/$n"
done
