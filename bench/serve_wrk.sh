#!/usr/bin/env bash
# Benchmark of `imagepipe serve`'s accept path with wrk (Debian package `wrk`): the b64
# watsonx Orchestrate tool's request, posted with 100 KB and 560 KB bodies, against a
# provider answering in 0 s and in 1 s. Reports accepted jobs/s and the 202's latency
# (p50, p99) at full speed, and the latency at a paced 500 jobs/s.
#
#   bench/serve_wrk.sh [BUILD_DIR] [SECONDS]        (default: build, 10 s per run)
#   DELAYS="0" bench/serve_wrk.sh ...              (provider delays in ms; default "0 1000")
#   IMAGE=photo.jpg bench/serve_wrk.sh ...         (the small body carries this image instead;
#                                                   bench_verify DIR writes photo-like ones)
#   QUEUE=redis bench/serve_wrk.sh ...             (jobs in a redis-server started here, AOF on,
#                                                   appendfsync $APPENDFSYNC, default always)
#   QUEUE=redis://host:port/db bench/serve_wrk.sh  (jobs in that Redis: it is flushed!)
#   QUEUED_LIMIT=0 bench/serve_wrk.sh ...          (limits.queued_jobs_per_pipeline; default
#                                                   1000: past it the 503s count as errors)
#
# The pipeline is the b64 tool's (same route, schema, callback) over the `slow-echo` test
# provider, so what is measured is the daemon, not image work. Callbacks go to a small
# receiver started here. Everything listens on 127.0.0.1 and stops when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${2:-10}
paced=${PACED_CONNECTIONS:-13}
binary=$build/bin/imagepipe
plugins=$build/test-plugins
command -v node >/dev/null || { echo "node is not installed" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
[ -x "$binary" ] || { echo "no $binary: build the imagepipe target first" >&2; exit 2; }
[ -f "$plugins/imagepipe-provider-slow-echo.so" ] || { echo "no slow-echo provider in $plugins: build imagepipe_test_slow_echo" >&2; exit 2; }

work=$(mktemp -d /tmp/imagepipe-bench-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Request bodies: a PNG of random pixels (incompressible) sized so the JSON body is
# about 100 KB or 560 KB.
python3 - "$work" <<'PY'
import base64, json, os, struct, sys, zlib
def png(side):
    raw = b"".join(b"\0" + os.urandom(side * 3) for _ in range(side))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b"")
image = os.environ.get("IMAGE")
for name, side in (("100k", 160), ("560k", 374)):
    data = open(image, "rb").read() if image and name == "100k" else png(side)
    body = json.dumps({"prompt": "add a dog to the image", "filename": "burger.png",
                       "image_base64": base64.b64encode(data).decode()})
    open(f"{sys.argv[1]}/body-{name}.json", "w").write(body)
    print(f"body {name}: {len(body)} bytes", file=sys.stderr)
PY

# The callback receiver (node: cheaper per request than anything in Python).
receiver_port=$(free_port)
node bench/callback_receiver.js "$receiver_port" &
pids+=($!)

# The Redis job store: a server of our own with the durability a 202 needs, or the given one.
queue=${QUEUE:-}
if [ "$queue" = redis ]; then
  command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 2; }
  redis_port=$(free_port)
  mkdir -p "$work/redis"
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --appendonly yes \
    --appendfsync "${APPENDFSYNC:-always}" --save "" --daemonize no >"$work/redis.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  queue="redis://127.0.0.1:$redis_port/0"
fi
queue_args=()
[ -n "$queue" ] && queue_args=(--queue "$queue") && echo "jobs in $queue" >&2
if [ -n "${QUEUED_LIMIT:-}" ]; then
  echo "limits: {queued_jobs_per_pipeline: $QUEUED_LIMIT}" >"$work/serve.yaml"
  queue_args+=(--config "$work/serve.yaml")
fi

run_daemon() {  # $1: provider delay in ms; sets $port
  local delay=$1
  port=$(free_port)
  mkdir -p "$work/pipe-$delay"
  cat >"$work/pipe-$delay/b64.yaml" <<YAML
name: bench-b64
trigger:
  http: {method: POST, path: /process-image-async-b64, mode: async, callback_header: callbackUrl}
  request_schema:
    type: object
    required: [prompt, image_base64]
    properties: {prompt: {type: string}, filename: {type: string}, image_base64: {type: string}}
source: {from: request, field: image_base64, filename_field: filename}
provider: {use: slow-echo, with: {delay_ms: $delay}}
sink: {inline: true}
notifier:
  use: http-callback
  with:
    url: "\${request.headers.callbackUrl}"
    body: {status: "\${job.status}", job_id: "\${job.id}", result_mime_type: "\${items[0].mime}"}
YAML
  # Each run starts on an empty queue.
  [ -n "$queue" ] && redis-cli -u "$queue" flushdb >/dev/null
  "$binary" --plugin-dir "$plugins" --log-level warn serve --listen "127.0.0.1:$port" \
    --data "$work/data-$delay" "${queue_args[@]}" "$work/pipe-$delay/b64.yaml" >"$work/daemon-$delay.out" 2>"$work/daemon-$delay.log" &
  pids+=($!)
  for _ in $(seq 100); do grep -q listening "$work/daemon-$delay.out" 2>/dev/null && break; sleep 0.1; done
}

lua() {  # $1: body file, $2: pause between a connection's requests (ms), 0 for none
  cat >"$work/post.lua" <<LUA
local f = io.open("$1", "rb"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["callbackUrl"] = "http://127.0.0.1:$receiver_port/callback"
function delay() return $2 end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.2f %.2f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
LUA
}

printf "%-10s %-6s %-22s %10s %9s %9s %7s\n" provider body load "jobs/s" "p50 ms" "p99 ms" errors
for delay in ${DELAYS:-0 1000}; do
  run_daemon "$delay"
  for size in 100k 560k; do
    url="http://127.0.0.1:$port/process-image-async-b64"
    lua "$work/body-$size.json" 0
    r=$(wrk -t2 -c32 -d"${seconds}s" -s "$work/post.lua" "$url" | grep RESULT)
    read -r _ rps p50 p99 errs _ <<<"$r"
    printf "%-10s %-6s %-22s %10s %9s %9s %7s\n" "${delay} ms" "$size" "max (32 connections)" "$rps" "$p50" "$p99" "$errs"
    # Paced: each connection waits 20 ms between requests, so 13 connections offer about
    # 500 jobs/s when answers are quick (PACED_CONNECTIONS to change it).
    lua "$work/body-$size.json" 20
    r=$(wrk -t2 -c"$paced" -d"${seconds}s" -s "$work/post.lua" "$url" | grep RESULT)
    read -r _ rps p50 p99 errs _ <<<"$r"
    printf "%-10s %-6s %-22s %10s %9s %9s %7s\n" "${delay} ms" "$size" "paced ($paced connections)" "$rps" "$p50" "$p99" "$errs"
  done
  queued=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^imagepipe_queue_depth/ {print $2}')
  echo "  (provider ${delay} ms: ${queued:-?} jobs still queued at the end; they are durable and run on)"
  kill "${pids[-1]}" 2>/dev/null || true
done
