#!/usr/bin/env bash
# libFuzzer targets for the parsers of untrusted bytes that are our own code: the request
# body's pre-parse scans, templates (every string of a pipeline file) and cron
# expressions. Built with clang (the main build uses g++) with ASan and UBSan, seeded from
# tests/fuzz/corpus/. Findings are written to build-fuzz/; add each, minimised, to the
# corpus as a regression input once fixed.
#   scripts/fuzz.sh           # 10 minutes per target
#   scripts/fuzz.sh 10        # the smoke run the test command does
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
out=${FUZZ_DIR:-build-fuzz}

packages=(clang-14 libclang-rt-14-dev libhowardhinnant-date-dev nlohmann-json3-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$out"
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -Icore/include -Icore/src -Irunner/src)
declare -A sources=(
  [json_scan]="tests/fuzz/json_scan_fuzz.cpp runner/src/json_field_scan.cpp"
  [template]="tests/fuzz/template_fuzz.cpp core/src/template.cpp"
  [cron]="tests/fuzz/cron_fuzz.cpp core/src/schedule/cron.cpp core/src/config/suggest.cpp -DUSE_OS_TZDB=1 -ldate-tz"
)
# Short runs (the test command's smoke) use a fixed seed: the same inputs every time, so a
# CI run never fails on a chance discovery that no one can reproduce. Long runs explore.
seed=()
((seconds <= 60)) && seed=(-seed=1)
status=0
for target in json_scan template cron; do
  # shellcheck disable=SC2086 # the source lists are words on purpose
  clang++-14 "${flags[@]}" ${sources[$target]} -o "$out/${target}_fuzz"
  corpus="$out/corpus-$target"
  mkdir -p "$corpus"
  cp -n tests/fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  log="$out/$target.log"
  if ASAN_OPTIONS=detect_leaks=1 "$out/${target}_fuzz" "$corpus" "${seed[@]}" -max_total_time="$seconds" \
      -max_len=4096 -print_final_stats=1 -artifact_prefix="$out/$target-" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    echo "fuzz $target: $runs inputs in ${seconds}s, $rate exec/s, no finding"
  else
    echo "fuzz $target: FINDING (see $log and $out/$target-*)"
    tail -30 "$log"
    status=1
  fi
done
exit $status
