#!/usr/bin/env bash
# Installs imagepipe's build dependencies from Debian 12's packages (idempotent) and builds.
#   scripts/setup.sh            # Release-ish build in ./build
#   BUILD_DIR=build-asan IMAGEPIPE_SANITIZE=address,undefined scripts/setup.sh
#   DEBUG_INFO=0 scripts/setup.sh   # no -g: faster to build (scripts/test.sh does this)
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

# The storage tests' emulators (s3rver, Azurite) and Microsoft's Azure client, from npm,
# when node is here; the tests say they are skipped otherwise.
if command -v npm >/dev/null && command -v node >/dev/null; then
  lock=tests/servers/node_modules/.package-lock.json
  if [[ ! -f $lock || tests/servers/package-lock.json -nt $lock ]]; then
    echo "setup: npm ci --prefix tests/servers"
    npm ci --prefix tests/servers --no-audit --no-fund --loglevel=error >/dev/null
  fi
fi

BUILD_DIR=${BUILD_DIR:-build}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Relative paths in the cache key: a fresh clone elsewhere still hits the cache.
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# DEBUG_INFO=0 (the test command's choice) builds the same -O2 code without -g: about a
# quarter less compile time, which is what keeps a cold CI build short.
flags=()
[[ ${DEBUG_INFO:-1} == 0 ]] && flags+=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG")
[[ ${DEBUG_INFO:-1} == 1 ]] && flags+=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g -DNDEBUG")
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  -DIMAGEPIPE_SANITIZE="${IMAGEPIPE_SANITIZE:-}" "${flags[@]}" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
echo "setup: built $BUILD_DIR/bin/imagepipe"
