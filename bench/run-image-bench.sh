#!/usr/bin/env bash
# Image benchmarks against the usual tools (numbers, not pass/fail):
#   1. the seeds' fallback (decode a 1024x1024 JPEG, invert, watermark, write PNG):
#      bench_fallback vs the same steps in Pillow (bench/pillow_fallback.py);
#   2. a 1024 px JPEG thumbnail of a 4000x4000 JPEG: bench_thumbnail vs vipsthumbnail.
# Inputs are generated photo-like JPEGs (bench/make_bench_images.py).
#
#   bench/run-image-bench.sh [BUILD_DIR]      (default: ./build; needs bench_fallback and
#                                              bench_thumbnail built there)
#   RUNS=5 THUMB_RUNS=9 KEEP=1 bench/run-image-bench.sh build
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
runs=${RUNS:-5}
thumb_runs=${THUMB_RUNS:-9}

# Pillow comes from Debian's python3-pil, which a pyenv or venv python3 may not see.
python=python3
if ! "$python" -c "import PIL" 2>/dev/null; then python=/usr/bin/python3; fi
"$python" -c "import PIL" || { echo "Pillow is needed (apt-get install python3-pil)" >&2; exit 1; }
command -v vipsthumbnail >/dev/null || { echo "vipsthumbnail is needed (apt-get install libvips-tools)" >&2; exit 1; }
for exe in bench_fallback bench_thumbnail; do
  [[ -x $build/bin/$exe ]] || { echo "$build/bin/$exe is missing: ninja -C $build $exe" >&2; exit 1; }
done

work=$(mktemp -d)
if [[ -z ${KEEP:-} ]]; then trap 'rm -rf "$work"' EXIT; else echo "keeping $work"; fi
mkdir -p "$work/in" "$work/cpp" "$work/pil"
echo "== generating inputs (12 x 1024x1024 and one 4000x4000 JPEG)"
"$python" "$repo/bench/make_bench_images.py" "$work/in" 12 1024 4000

result() { sed -n "s/^RESULT .*$1=\([0-9.]*\).*/\1/p" "$2"; }
ratio() { "$python" -c "print(f'{$1 / $2:.2f}')"; }
median_ms() { "$python" -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.1f}')" "$@"; }

echo
echo "== fallback: imagepipe (provider local, invert) — median of $runs runs per image"
"$build/bin/bench_fallback" --runs "$runs" --out "$work/cpp" "$work"/in/photo-*.jpg | tee "$work/cpp.txt"
echo
echo "== fallback: Pillow $("$python" -c 'import PIL; print(PIL.__version__)') — median of $runs runs per image"
"$python" "$repo/bench/pillow_fallback.py" --runs "$runs" --out "$work/pil" "$work"/in/photo-*.jpg | tee "$work/pil.txt"

cpp_ms=$(result median_ms "$work/cpp.txt"); pil_ms=$(result median_ms "$work/pil.txt")
cpp_bytes=$(result mean_png_bytes "$work/cpp.txt"); pil_bytes=$(result mean_png_bytes "$work/pil.txt")

echo
echo "== thumbnail: 4000x4000 JPEG -> fit 1024x1024, JPEG quality 85"
"$build/bin/bench_thumbnail" --runs "$thumb_runs" --size 1024 --quality 85 --out "$work/thumb.jpg" \
  "$work/in/big-4000.jpg" | tee "$work/thumb.txt"
thumb_ms=$(result median_ms "$work/thumb.txt")

# Whole processes, timed the same way for both tools (start-up included).
wall_ms() {
  local start end
  start=$(date +%s%N); "$@" >/dev/null; end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
ours=() vips=() vips1=()
for _ in $(seq "$thumb_runs"); do
  ours+=("$(wall_ms "$build/bin/bench_thumbnail" --runs 1 --size 1024 --quality 85 --out "$work/thumb1.jpg" "$work/in/big-4000.jpg")")
  vips+=("$(wall_ms vipsthumbnail "$work/in/big-4000.jpg" -s 1024 -o "$work/vips.jpg[Q=85]")")
  vips1+=("$(VIPS_CONCURRENCY=1 wall_ms vipsthumbnail "$work/in/big-4000.jpg" -s 1024 -o "$work/vips1.jpg[Q=85]")")
done
ours_wall=$(median_ms "${ours[@]}"); vips_wall=$(median_ms "${vips[@]}"); vips1_wall=$(median_ms "${vips1[@]}")
echo "imagepipe process (one thumbnail):        $ours_wall ms"
echo "vipsthumbnail process (default threads):  $vips_wall ms"
echo "vipsthumbnail process (VIPS_CONCURRENCY=1): $vips1_wall ms"
echo "thumbnail sizes: imagepipe $(stat -c %s "$work/thumb1.jpg") bytes, vips $(stat -c %s "$work/vips.jpg") bytes"

echo
echo "== summary"
echo "fallback   imagepipe $cpp_ms ms/image, Pillow $pil_ms ms/image: $(ratio "$pil_ms" "$cpp_ms")x faster (target >= 3x)"
echo "           PNG size imagepipe $cpp_bytes bytes, Pillow $pil_bytes bytes: $(ratio "$cpp_bytes" "$pil_bytes")x (target <= 1.25x)"
echo "thumbnail  imagepipe $thumb_ms ms in-process, $ours_wall ms as a process; vipsthumbnail $vips_wall ms"
echo "           imagepipe/vips (processes): $(ratio "$ours_wall" "$vips_wall") (target <= 1.5)"
