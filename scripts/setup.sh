#!/usr/bin/env bash
# Installs imagepipe's build dependencies from Debian 12's packages (idempotent) and builds
# the `imagepipe` executable (with its built-in plugins and the OpenImageIO module): what the
# README's first command runs. scripts/test.sh then builds the rest in the same build/.
#   scripts/setup.sh                    # -O2 build of bin/imagepipe in ./build
#   BUILD_TARGETS=all scripts/setup.sh  # everything: tests, benchmarks, plugin modules
#   BUILD_DIR=build-asan IMAGEPIPE_SANITIZE=address,undefined scripts/setup.sh
#   DEBUG_INFO=1 scripts/setup.sh       # with -g (a quarter more compile time)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-dev libboost-filesystem-dev libboost-system-dev
  libyaml-cpp-dev nlohmann-json3-dev libvalijson-dev libcli11-dev libspdlog-dev
  libturbojpeg0-dev libpng-dev libwebp-dev libtiff-dev libgif-dev libexif-dev
  libopenimageio-dev openimageio-tools liburiparser-dev libfreetype-dev fonts-dejavu-core
  libssl-dev libcurl4-openssl-dev libsqlite3-dev libhiredis-dev
  redis-server  # the Redis job store's tests start their own (tests/support/processes.hpp)
  libgtest-dev libgmock-dev
  libpugixml-dev awscli python3-botocore
  libhowardhinnant-date-dev libicu-dev
  libcjose-dev libjansson-dev
  prometheus  # promtool: the tests lint the daemon's /metrics with it
  zsh  # the completion test loads the zsh script
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

BUILD_DIR=${BUILD_DIR:-build}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Relative paths in the cache key: a fresh clone elsewhere still hits the cache.
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# Without -g by default: about a quarter less compile time, and the same flags for both of
# the README's commands, so the test command reuses this build instead of redoing it.
flags=()
[[ ${DEBUG_INFO:-0} == 0 ]] && flags+=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG")
[[ ${DEBUG_INFO:-0} == 1 ]] && flags+=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g -DNDEBUG")
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  -DIMAGEPIPE_SANITIZE="${IMAGEPIPE_SANITIZE:-}" "${flags[@]}" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target ${BUILD_TARGETS:-imagepipe}
echo "setup: built $BUILD_DIR/bin/imagepipe"
