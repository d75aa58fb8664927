#!/usr/bin/env bash
# Sets up everything the tests need (Debian packages, the build) and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
# Without debug info unless asked (DEBUG_INFO=1): the tests do not need it, CI time does.
DEBUG_INFO=${DEBUG_INFO:-0} scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
# Runner tests call the built binary; tests run in parallel, one per core.
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 300
