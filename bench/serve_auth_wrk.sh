#!/usr/bin/env bash
# What authentication costs `imagepipe serve` per request, measured with wrk (Debian
# package `wrk`): the same sync and async routes with auth off, with an API key
# (X-API-Key) and with an RS256 JWT checked against a JWKS (cached after the first
# request). Reports requests/s and p50/p99 at full speed (16 connections) and at a paced
# ~200 requests/s (4 connections, 20 ms apart).
#
#   bench/serve_auth_wrk.sh [BUILD_DIR] [SECONDS]        (default: build, 10 s per run)
#
# The routes run the `slow-echo` test provider with no delay on a tiny PNG, so what is
# measured is the daemon and its gate. The issuer (discovery and JWKS) is python3's
# http.server on loopback; the keys and the token are made here with the openssl command.
# Everything listens on 127.0.0.1 and stops when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${2:-10}
binary=$build/bin/imagepipe
plugins=$build/test-plugins
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "openssl is not installed" >&2; exit 2; }
[ -x "$binary" ] || { echo "no $binary: build the imagepipe target first" >&2; exit 2; }
[ -f "$plugins/imagepipe-provider-slow-echo.so" ] || { echo "no slow-echo provider in $plugins: build imagepipe_test_slow_echo" >&2; exit 2; }

work=$(mktemp -d /tmp/imagepipe-auth-bench-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The issuer: a key pair, its JWKS and a discovery document, served from a folder.
issuer_port=$(free_port)
issuer="http://127.0.0.1:$issuer_port/tenant/v2.0"
mkdir -p "$work/issuer/tenant/v2.0/.well-known"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/key.pem" 2>/dev/null
modulus=$(openssl rsa -in "$work/key.pem" -noout -modulus | cut -d= -f2)
python3 - "$work" "$issuer" "$issuer_port" "$modulus" <<'PY'
import base64, json, sys, time
work, issuer, port, modulus = sys.argv[1:5]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
n = b64(bytes.fromhex(modulus))
json.dump({"keys": [{"kty": "RSA", "kid": "bench-1", "alg": "RS256", "use": "sig", "n": n, "e": "AQAB"}]},
          open(f"{work}/issuer/keys", "w"))
json.dump({"issuer": issuer, "jwks_uri": f"http://127.0.0.1:{port}/keys"},
          open(f"{work}/issuer/tenant/v2.0/.well-known/openid-configuration", "w"))
now = int(time.time())
header = b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "bench-1"}).encode())
claims = b64(json.dumps({"iss": issuer, "aud": "bench-client", "sub": "bench", "exp": now + 3600,
                         "nbf": now - 60, "roles": ["Images.Writer"], "scp": "images.write"}).encode())
open(f"{work}/signing-input", "w").write(f"{header}.{claims}")
PY
openssl dgst -sha256 -sign "$work/key.pem" -out "$work/signature" "$work/signing-input"
token="$(cat "$work/signing-input").$(python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(open(sys.argv[1],"rb").read()).rstrip(b"=").decode())' "$work/signature")"
(cd "$work/issuer" && exec python3 -m http.server "$issuer_port" --bind 127.0.0.1 >/dev/null 2>&1) &
pids+=($!)

mkdir -p "$work/pipes"
for mode in sync async; do
  cat >"$work/pipes/$mode.yaml" <<YAML
name: bench-$mode
trigger:
  http: {method: POST, path: /$mode, mode: $mode}
  request_schema: {type: object, required: [image_base64], properties: {image_base64: {type: string}}}
source: {from: request, field: image_base64}
provider: {use: slow-echo, with: {delay_ms: 0}}
sink: {inline: true}
YAML
done
python3 - "$work/body.json" <<'PY'
import base64, json, struct, sys, zlib
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)) + \
    chunk(b"IDAT", zlib.compress(b"".join(b"\0" + b"\x80" * 24 for _ in range(8)))) + chunk(b"IEND", b"")
json.dump({"image_base64": base64.b64encode(png).decode()}, open(sys.argv[1], "w"))
PY

run_daemon() {  # $1: name, $2: config file or empty; sets $port
  port=$(free_port)
  local config=()
  [ -n "$2" ] && config=(--config "$2")
  "$binary" --plugin-dir "$plugins" --log-level warn serve --listen "127.0.0.1:$port" \
    --data "$work/data-$1" "${config[@]}" "$work/pipes" >"$work/daemon-$1.out" 2>"$work/daemon-$1.log" &
  pids+=($!)
  for _ in $(seq 100); do grep -q listening "$work/daemon-$1.out" 2>/dev/null && break; sleep 0.1; done
}

lua() {  # $1: header name, $2: value, $3: pause between a connection's requests (ms)
  cat >"$work/post.lua" <<LUA
local f = io.open("$work/body.json", "rb"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if "$1" ~= "" then wrk.headers["$1"] = "$2" end
function delay() return $3 end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.2f %.2f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
LUA
}

cat >"$work/auth.yaml" <<YAML
auth:
  api_keys: [{name: bench, key: bench-key-0123456789}]
  oidc: {issuer: "$issuer", audience: bench-client}
YAML

printf "%-8s %-6s %-20s %10s %9s %9s %7s\n" auth route load "req/s" "p50 ms" "p99 ms" errors
for variant in off api_key jwt; do
  if [ "$variant" = off ]; then run_daemon off ""; else run_daemon "$variant" "$work/auth.yaml"; fi
  case $variant in
    off) header=""; value="" ;;
    api_key) header="X-API-Key"; value="bench-key-0123456789" ;;
    jwt) header="Authorization"; value="Bearer $token" ;;
  esac
  for route in sync async; do
    url="http://127.0.0.1:$port/$route"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Content-Type: application/json" \
      ${header:+-H "$header: $value"} --data @"$work/body.json" "$url")
    [ "$code" = 200 ] || [ "$code" = 202 ] || { echo "warm-up of $variant $route answered $code" >&2; cat "$work/daemon-$variant.log" >&2; exit 1; }
    lua "$header" "$value" 0
    read -r _ rps p50 p99 errs _ <<<"$(wrk -t2 -c16 -d"${seconds}s" -s "$work/post.lua" "$url" | grep RESULT)"
    printf "%-8s %-6s %-20s %10s %9s %9s %7s\n" "$variant" "$route" "max (16 conn.)" "$rps" "$p50" "$p99" "$errs"
    lua "$header" "$value" 20
    read -r _ rps p50 p99 errs _ <<<"$(wrk -t2 -c4 -d"${seconds}s" -s "$work/post.lua" "$url" | grep RESULT)"
    printf "%-8s %-6s %-20s %10s %9s %9s %7s\n" "$variant" "$route" "paced (4 conn.)" "$rps" "$p50" "$p99" "$errs"
  done
  kill "${pids[-1]}" 2>/dev/null || true
done
