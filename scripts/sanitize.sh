#!/usr/bin/env bash
# The engine, job store, plugins and daemon suites under AddressSanitizer and UBSan, built
# in build-asan/ (-O1 -g). Not part of scripts/test.sh: a cold sanitizer build takes about
# 20 minutes on 2 cores. Run scripts/setup.sh once first (packages, npm servers).
#
#   scripts/sanitize.sh            # build and run; exits non-zero on a failure or a report
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-asan}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache} CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DIMAGEPIPE_SANITIZE=address,undefined -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g -DNDEBUG" >/dev/null
suites=(test_engine test_daemon test_http test_config test_plugins test_integration)
cmake --build "$build" -j"$(nproc)" --target imagepipe imagepipe_test_slow_echo "${suites[@]}"

# Daemons started by the integration tests report into files, so nothing is lost with
# their stderr; symbolize=0 keeps a report quick (addr2line -e $build/bin/imagepipe ADDR).
reports=$(mktemp -d /tmp/imagepipe-sanitize-XXXXXX)
export ASAN_OPTIONS=detect_leaks=1:symbolize=0:log_path=$reports/asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan
failed=0
for suite in "${suites[@]}"; do
  echo "== $suite"
  "$build/bin/$suite" --gtest_brief=1 || failed=1
done
if compgen -G "$reports/*" >/dev/null; then
  echo "sanitizer reports in $reports:" >&2
  ls "$reports" >&2
  failed=1
fi
exit $failed
