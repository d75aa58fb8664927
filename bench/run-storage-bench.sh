#!/usr/bin/env bash
# Storage throughput on loopback emulators, the plugins next to the aws CLI in the same run:
# upload and download of 1 MB and 20 MB objects (median of RUNS), then listing 10,000 keys.
#   cmake --build build -j2 --target bench_storage
#   bench/run-storage-bench.sh build          # RUNS=5 LIST=10000 to tune
# Needs node with `npm ci --prefix tests/servers` done, aws and python3. s3rver and Azurite
# are single-threaded node servers writing to disk or memory: the figures compare clients
# against the same server, they say nothing about AWS or Azure themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
BIN=$BUILD/bin/bench_storage
RUNS=${RUNS:-5}
LIST=${LIST:-10000}
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "server on port $1 did not start" >&2
  exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

S3_PORT=$(free_port)
AZ_PORT=$(free_port)
NODE_OPTIONS=--openssl-legacy-provider tests/servers/node_modules/.bin/s3rver -d "$TMP/s3" -a 127.0.0.1 \
  -p "$S3_PORT" --silent --no-vhost-buckets --configure-bucket bench >"$TMP/s3rver.log" 2>&1 &
PIDS+=($!)
tests/servers/node_modules/.bin/azurite-blob --blobHost 127.0.0.1 --blobPort "$AZ_PORT" --inMemoryPersistence \
  --silent --disableTelemetry >"$TMP/azurite.log" 2>&1 &
PIDS+=($!)
wait_port "$S3_PORT"
wait_port "$AZ_PORT"

KEY=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==
CONN="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$KEY;BlobEndpoint=http://127.0.0.1:$AZ_PORT/devstoreaccount1;"
node tests/servers/azure_check.js "$CONN" create-container bench
S3_OPTS="{\"bucket\":\"bench\",\"endpoint\":\"http://127.0.0.1:$S3_PORT\",\"access_key_id\":\"S3RVER\",\"secret_access_key\":\"S3RVER\"}"
AZ_OPTS="{\"container\":\"bench\",\"connection_string\":\"$CONN\"}"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
AWS=(aws --endpoint-url "http://127.0.0.1:$S3_PORT")

echo "== $(date -u +%FT%TZ), $(nproc) cores, RUNS=$RUNS"
start=$(now_ms)
for _ in 1 2 3; do aws --version >/dev/null 2>&1; done
echo "aws CLI start-up alone: $((($(now_ms) - start) / 3)) ms per process (included in its figures below)"
for size in 1 20; do
  "$BIN" s3 "$S3_OPTS" "$size" "$RUNS"
  head -c $((size * 1024 * 1024)) /dev/urandom >"$TMP/obj-$size"
  up=() down=()
  for r in $(seq "$RUNS"); do
    t=$(now_ms)
    "${AWS[@]}" s3 cp --quiet "$TMP/obj-$size" "s3://bench/aws/$size-$r.bin"
    up+=($(($(now_ms) - t)))
    t=$(now_ms)
    "${AWS[@]}" s3 cp --quiet "s3://bench/aws/$size-$r.bin" "$TMP/back-$size"
    down+=($(($(now_ms) - t)))
  done
  u=$(printf '%s\n' "${up[@]}" | median)
  d=$(printf '%s\n' "${down[@]}" | median)
  awk -v s="$size" -v u="$u" -v d="$d" -v n="$RUNS" 'BEGIN {
    printf "aws s3 cp %s MB: upload %.1f ms (%.1f MB/s), download %.1f ms (%.1f MB/s), median of %d\n",
      s, u, s / (u / 1000), d, s / (d / 1000), n }'
  "$BIN" azure-blob "$AZ_OPTS" "$size" "$RUNS"
done

"$BIN" s3 "$S3_OPTS" --list "$LIST" list/
t=$(now_ms)
count=$("${AWS[@]}" s3api list-objects-v2 --bucket bench --prefix list/ --query 'length(Contents)')
echo "aws s3api list-objects-v2 $count keys (all pages, one process): $(($(now_ms) - t)) ms"
"$BIN" azure-blob "$AZ_OPTS" --list "$LIST" list/
