#!/usr/bin/env bash
# The .deb installs on Debian 12 and runs as its service would: builds the package with
# cpack, installs it with the Dockerfile's apt-get line, checks the unit, starts the unit's
# ExecStart (and the Dockerfile's CMD) as the imagepipe user, runs a job through a shipped
# pipeline, then purges the package. Needs root (or passwordless sudo); exits 77 (skipped)
# otherwise. No systemd runs here, so the unit is verified and its command line is run.
set -euo pipefail
build_dir=$(cd "$1" && pwd)
source_dir=$(cd "$(dirname "$0")/../.." && pwd)

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  sudo -n true 2>/dev/null || { echo "deb package: needs root or passwordless sudo, skipped"; exit 77; }
  SUDO="sudo -n"
fi
if dpkg-query -W -f='${Status}' imagepipe 2>/dev/null | grep -q "install ok installed"; then
  echo "deb package: an imagepipe package is already installed here; not touching it" >&2
  exit 1
fi

work=$(mktemp -d)
pid=""
# What the package leaves on purge (its data and user) is removed again when this test made it.
had_data=0 had_user=0
[[ -e /var/lib/imagepipe ]] && had_data=1
getent passwd imagepipe >/dev/null && had_user=1
cleanup() {
  [[ -n $pid ]] && $SUDO kill "$pid" 2>/dev/null || true
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq imagepipe >/dev/null 2>&1 || true
  ((had_data)) || $SUDO rm -rf /var/lib/imagepipe
  ((had_user)) || $SUDO deluser --system imagepipe >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cpack --config "$build_dir/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; exit 1; }
deb=$(ls "$work"/pkg/imagepipe_*.deb)

# The Dockerfile's install line, on this machine.
install_line=$(grep -o 'apt-get install -y --no-install-recommends /tmp/imagepipe_\*\.deb' \
  "$source_dir/packaging/Dockerfile")
[[ -n $install_line ]] || { echo "the Dockerfile's apt-get line changed: update this test" >&2; exit 1; }
$SUDO env DEBIAN_FRONTEND=noninteractive ${install_line/\/tmp\/imagepipe_\*.deb/$deb} -qq >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; exit 1; }

test -x /usr/bin/imagepipe
getent passwd imagepipe >/dev/null || { echo "postinst made no imagepipe user" >&2; exit 1; }
[[ $(stat -c %U /var/lib/imagepipe) == imagepipe ]] || { echo "/var/lib/imagepipe not owned by imagepipe" >&2; exit 1; }
[[ $(stat -c %a /etc/imagepipe/callback.key) == 640 && $(stat -c %s /etc/imagepipe/callback.key) == 32 ]] ||
  { echo "callback key missing or readable by others" >&2; ls -l /etc/imagepipe >&2; exit 1; }
dpkg-query -W -f='${Conffiles}\n' imagepipe | grep -q /etc/imagepipe/serve.yaml ||
  { echo "serve.yaml is not a conffile" >&2; exit 1; }
[[ $(/usr/bin/imagepipe --version) =~ ^imagepipe\ [0-9] ]]
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /lib/systemd/system/imagepipe.service
fi

# Starts a command line as the unit would (its user, working directory and environment
# file), on a free loopback port, and checks it serves a job end to end.
serve_as_service() {
  local what=$1; shift
  local out=$work/$what.out
  (cd /var/lib/imagepipe && exec $SUDO runuser -u imagepipe -- "$@" --listen 127.0.0.1:0) \
    >"$out" 2>"$work/$what.err" &
  pid=$!
  for _ in $(seq 1 100); do grep -q "^listening on" "$out" && break; sleep 0.1; done
  local url
  url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$out" | head -1)
  [[ -n $url ]] || { echo "$what: did not start" >&2; cat "$out" "$work/$what.err" >&2; exit 1; }
  [[ $(curl -fsS "$url/health") == '{"ok":true}' ]] || { echo "$what: /health" >&2; exit 1; }
  curl -fsS "$url/health/ready" | grep -q '"local-edit"' || { echo "$what: local-edit not ready" >&2; exit 1; }
  # A job through a shipped pipeline: the result lands in the service's data directory.
  printf '{"image_base64":"%s","filename":"%s.jpg"}' \
    "$(base64 -w0 /usr/share/imagepipe/pipelines/samples/sample.jpg)" "$what" >"$work/body.json"
  local status
  status=$(curl -sS -o "$work/$what.answer" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$work/body.json" "$url/local-edit")
  [[ $status == 200 ]] || { echo "$what: POST /local-edit answered $status" >&2; cat "$work/$what.answer" >&2; exit 1; }
  local result=/var/lib/imagepipe/out/local-edit/${what}_modified.png
  [[ $(stat -c %U "$result") == imagepipe && $(stat -c %s "$result") -gt 1000 ]] ||
    { echo "$what: no result at $result" >&2; exit 1; }
  test -f /var/lib/imagepipe/jobs.db
  $SUDO kill -TERM "$pid"
  wait "$pid" || true
  pid=""
  echo "deb package: $what serves /health and ran a job into $result"
}

exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/imagepipe.service)
# shellcheck disable=SC2086  # the unit's words, as systemd splits them
serve_as_service unit $exec_start
docker_cmd=$(sed -n 's/^CMD \[\(.*\)\]$/\1/p' "$source_dir/packaging/Dockerfile" | tr -d '",')
# shellcheck disable=SC2086
serve_as_service docker $docker_cmd

$SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq imagepipe >/dev/null 2>&1
[[ ! -e /usr/bin/imagepipe && ! -e /etc/imagepipe/callback.key ]] ||
  { echo "purge left /usr/bin/imagepipe or the callback key" >&2; exit 1; }
echo "deb package: $(basename "$deb") installs, runs as its unit and its Dockerfile say, and purges"
