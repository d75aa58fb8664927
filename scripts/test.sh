#!/usr/bin/env bash
# Sets up everything the tests need (Debian packages, the build) and runs every test.
#   scripts/test.sh                      # what CI runs (.ci/run)
#   SANITIZE=0 FUZZ_SECONDS=0 scripts/test.sh   # the normal suites only
set -euo pipefail
cd "$(dirname "$0")/.."
# The same configuration as the README's first command (no reconfigure, nothing rebuilt
# that it built), then the rest: tests, benchmarks, plugin modules.
BUILD_TARGETS=all scripts/setup.sh
# The storage tests' emulators (s3rver, Azurite), the browser driver (playwright-core) and
# Microsoft's Azure client, from npm; Debian's node and npm when the machine has none, and
# Debian's chromium, which the dashboard's browser test drives (no browser download).
need=()
command -v npm >/dev/null || need+=(nodejs npm)
command -v chromium >/dev/null || need+=(chromium)
if ((${#need[@]})); then
  echo "test: installing ${need[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
lock=tests/servers/node_modules/.package-lock.json
if [[ ! -f $lock || tests/servers/package-lock.json -nt $lock ]]; then
  echo "test: npm ci --prefix tests/servers"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/servers --no-audit --no-fund --loglevel=error >/dev/null
fi
status=0
# The fuzz targets' smoke run (10,000 inputs each from a fixed seed, ASan and UBSan: about
# half a minute for the ten, plus their build); scripts/fuzz.sh alone explores for 10 minutes
# each.
if [[ ${FUZZ_SECONDS:-6} != 0 ]]; then
  scripts/fuzz.sh "${FUZZ_SECONDS:-6}" || status=1
fi
# The engine, config, store, HTTP and daemon suites again under ASan and UBSan, in
# build-asan/ (see scripts/sanitize.sh for what is left out and why).
if [[ ${SANITIZE:-1} != 0 ]]; then
  scripts/sanitize.sh || status=1
fi
BUILD_DIR=${BUILD_DIR:-build}
# Runner tests call the built binary; tests run in parallel, one per core. Last, so its
# summary closes the output.
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 300 || status=1
# What failed (or was flaky) in the first two phases, after ctest's summary: the end of the
# output is what a CI record keeps.
echo "== fuzz smoke and sanitizer subset =="
cat build-fuzz/fuzz-summary.txt build-asan/sanitize-summary.txt 2>/dev/null || true
exit $status
