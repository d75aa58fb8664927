#!/usr/bin/env bash
# Sets up everything the tests need (Debian packages, the build) and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
# Without debug info unless asked (DEBUG_INFO=1): the tests do not need it, CI time does.
DEBUG_INFO=${DEBUG_INFO:-0} scripts/setup.sh
# The fuzz targets' smoke run (10 s each, ASan and UBSan); scripts/fuzz.sh alone runs them for
# 10 minutes. Before ctest, so ctest's summary closes the output.
scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
BUILD_DIR=${BUILD_DIR:-build}
# Runner tests call the built binary; tests run in parallel, one per core.
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 300
