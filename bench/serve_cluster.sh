#!/usr/bin/env bash
# Provider-bound throughput of several `imagepipe serve` nodes on one Redis queue, against
# one node, in the same run: JOBS async jobs on a provider answering in DELAY ms, each
# node running IN_FLIGHT jobs at a time. Reports jobs/s from the first post to the last
# callback; with a provider-bound load, N nodes should approach N times one node.
#
#   bench/serve_cluster.sh [BUILD_DIR]     (NODES="1 3" JOBS=240 DELAY=1000 IN_FLIGHT=8)
#
# Redis (AOF on, appendfsync always), the nodes and the callback receiver all run here, on
# 127.0.0.1, and stop when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
binary=$build/bin/imagepipe
plugins=$build/test-plugins
jobs=${JOBS:-240}
delay=${DELAY:-1000}
in_flight=${IN_FLIGHT:-8}
for tool in node redis-server redis-cli curl; do
  command -v $tool >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done
[ -x "$binary" ] || { echo "no $binary: build the imagepipe target first" >&2; exit 2; }

work=$(mktemp -d /tmp/imagepipe-cluster-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --appendonly yes \
  --appendfsync always --save "" >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
receiver_port=$(free_port)
node bench/callback_receiver.js "$receiver_port" &
pids+=($!)

cat >"$work/slow.yaml" <<YAML
name: bench-slow
trigger:
  http: {method: POST, path: /slow, mode: async, callback_header: callbackUrl}
  request_schema: {type: object, required: [image_base64], properties: {image_base64: {type: string}}}
source: {from: request, field: image_base64}
provider: {use: slow-echo, with: {delay_ms: $delay}}
sink: {inline: true}
notifier:
  use: http-callback
  with: {url: "\${request.headers.callbackUrl}", body: {status: "\${job.status}", job_id: "\${job.id}"}}
YAML
cat >"$work/serve.yaml" <<YAML
queue: redis://127.0.0.1:$redis_port/0
limits: {jobs_in_flight: $in_flight, queued_jobs_per_pipeline: 0}
YAML
echo '{"image_base64": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="}' >"$work/body.json"

printf "%-6s %6s %10s %8s\n" nodes jobs seconds "jobs/s"
for n in ${NODES:-1 3}; do
  redis-cli -p "$redis_port" flushdb >/dev/null
  node_pids=()
  ports=()
  for i in $(seq "$n"); do
    port=$(free_port)
    "$binary" --plugin-dir "$plugins" --log-level warn serve --listen "127.0.0.1:$port" \
      --config "$work/serve.yaml" --data "$work/data-$n-$i" "$work/slow.yaml" \
      >"$work/node-$n-$i.out" 2>"$work/node-$n-$i.log" &
    node_pids+=($!)
    ports+=("$port")
    for _ in $(seq 100); do grep -q listening "$work/node-$n-$i.out" 2>/dev/null && break; sleep 0.1; done
  done
  before=$(curl -s "http://127.0.0.1:$receiver_port/count")
  start=$(date +%s.%N)
  # Round robin over the nodes, 32 posts at a time.
  for j in $(seq "$jobs"); do echo "http://127.0.0.1:${ports[$((j % n))]}/slow"; done >"$work/urls"
  xargs -P 32 -n 1 curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
    -H "callbackUrl: http://127.0.0.1:$receiver_port/callback" --data "@$work/body.json" \
    <"$work/urls"
  while (( $(curl -s "http://127.0.0.1:$receiver_port/count") - before < jobs )); do sleep 0.05; done
  end=$(date +%s.%N)
  python3 -c "s=$end-$start; print(f'{$n:<6} {$jobs:>6} {s:>10.2f} {$jobs/s:>8.1f}')"
  kill "${node_pids[@]}" 2>/dev/null || true
  wait "${node_pids[@]}" 2>/dev/null || true
done
