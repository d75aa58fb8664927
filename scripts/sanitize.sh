#!/usr/bin/env bash
# The config, engine, job store, HTTP and daemon suites under AddressSanitizer and UBSan,
# built in build-asan/ (-O1, line tables only). The test command runs it (SANITIZE=0 skips
# it); run scripts/test.sh once first (packages, npm servers, the normal build).
#
# What is built with the sanitizers is what the suites exercise: the core, the plugins and
# the daemon (imagepipe), and the unit suites' binaries. The daemon suite's test binary
# itself comes from the normal build (build/bin/test_integration) and starts the sanitized
# daemon (IMAGEPIPE_TEST_EXECUTABLE): its own code is a test client, and compiling it again
# with ASan would cost a fifth of the build. Left out: the plugin, image, loader, runner,
# provider and storage suites, whose code runs in the daemon suite through the shipped
# pipelines; building them too would cost more than the rest of the subset.
#
#   scripts/sanitize.sh            # build and run; exits non-zero on a failure or a report
#   SANITIZE_SUITES="test_http" scripts/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-asan}
normal=${NORMAL_BUILD_DIR:-build}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache} CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
start=$SECONDS
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DIMAGEPIPE_SANITIZE=address,undefined -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" >/dev/null
read -r -a suites <<<"${SANITIZE_SUITES:-test_config test_engine test_daemon test_http}"
cmake --build "$build" -j"$(nproc)" --target imagepipe imagepipe_test_slow_echo imagepipe_test_slow_hold "${suites[@]}"
cmake --build "$normal" -j"$(nproc)" --target test_integration >/dev/null
built=$((SECONDS - start))

# Daemons started by the integration tests report into files, so nothing is lost with
# their stderr; symbolize=0 keeps a report quick (addr2line -e $build/bin/imagepipe ADDR).
reports=$(mktemp -d /tmp/imagepipe-sanitize-XXXXXX)
export ASAN_OPTIONS=detect_leaks=1:symbolize=0:log_path=$reports/asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan
# Latency bounds in the tests (e.g. /health within 100 ms under abuse) allow for ASan's
# slowdown.
export IMAGEPIPE_TEST_TIME_SCALE=4
# One test per core, as ctest runs the normal build; the unit suites by their labels (the
# folder names).
labels=$(printf '%s\n' "${suites[@]}" | sed 's/^test_//' | paste -sd'|')
failed=0
summary=$build/sanitize-summary.txt
: >"$summary"
# A suite that fails is run again once, alone: a test that passes the second time is reported
# as flaky in the summary (a timing bound too tight under ASan on a slower machine) rather
# than failing CI; one that fails twice fails the run. The summary is what scripts/test.sh
# prints last.
run_suite() { # name, ctest arguments...
  local name=$1 log=$build/sanitize-$1.log
  shift
  # pipefail: the status is ctest's.
  ctest "$@" --output-on-failure -j"$(nproc)" --timeout 600 2>&1 | tee "$log" && return 0
  local first
  first=$(sed -En 's/^[[:space:]]*[0-9]+ - ([^ ]+) \(.*/\1/p' "$log" | paste -sd' ')
  grep -B2 -A8 -E ': Failure$|ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$log" |
    head -60 >"$build/sanitize-$name.failures" || true
  if ctest "$@" --rerun-failed --output-on-failure --timeout 600 >"$log.rerun" 2>&1; then
    echo "sanitize $name: flaky (failed, then passed alone): $first" >>"$summary"
  else
    echo "sanitize $name: FAILED twice: $first" >>"$summary"
    cat "$build/sanitize-$name.failures" >>"$summary"
    failed=1
  fi
}
run_suite unit --test-dir "$build" -L "^($labels)\$"
# The daemon suite against the sanitized daemon, without the OpenAPI validator (not ours).
IMAGEPIPE_TEST_EXECUTABLE=$PWD/$build/bin/imagepipe IMAGEPIPE_TEST_PLUGIN_DIR=$PWD/$build/test-plugins \
  run_suite integration --test-dir "$normal" -L '^integration$' -E '^openapi_document_validates$'
if compgen -G "$reports/*" >/dev/null; then
  {
    echo "sanitize: reports in $reports: $(ls "$reports" | paste -sd' ')"
    for r in "$reports"/*; do grep -m3 -E 'ERROR|SUMMARY|runtime error|fatal' "$r"; done | head -30
  } | tee -a "$summary" >&2
  failed=1
fi
echo "sanitize: built in ${built}s, built and ran in $((SECONDS - start))s" | tee -a "$summary"
exit $failed
