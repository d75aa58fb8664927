#!/usr/bin/env bash
# The installed SDK is the plugin API only: the host's internals are not installed, and
# every installed header compiles on its own against the installed tree (nothing it needs
# was left out).
set -euo pipefail
build_dir=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/sdk" >/dev/null
include=$work/sdk/include
for internal in engine pipeline registry http_client logging threads cron describe egress; do
  [[ ! -e $include/imagepipe/$internal.hpp ]] || { echo "imagepipe/$internal.hpp is installed" >&2; exit 1; }
done
[[ ! -e $include/imagepipe/jobs.hpp ]] || { echo "imagepipe/jobs.hpp is installed" >&2; exit 1; }
count=0
while IFS= read -r header; do
  rel=${header#"$include"/}
  echo "#include \"$rel\"" >"$work/one.cpp"
  g++ -std=c++20 -fsyntax-only -I"$include" "$work/one.cpp" 2>"$work/one.err" ||
    { echo "$rel does not compile alone:" >&2; head -20 "$work/one.err" >&2; exit 1; }
  count=$((count + 1))
done < <(find "$include/imagepipe" -name '*.hpp' | sort)
((count >= 15)) || { echo "only $count headers installed" >&2; exit 1; }
echo "sdk headers: $count installed, each compiles alone, no host internals"
