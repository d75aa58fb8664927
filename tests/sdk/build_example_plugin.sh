#!/usr/bin/env bash
# The SDK works from outside the tree: install it, build docs/examples/sepia-plugin with
# find_package(imagepipe), load the result into the runner and run a job through it.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/sdk" >/dev/null
cmake -S "$source_dir/docs/examples/sepia-plugin" -B "$work/plugin" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/sdk" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/plugin" >/dev/null
test -f "$work/plugin/plugins/imagepipe-transform-sepia.so"

out=$("$build_dir/bin/imagepipe" --plugin-dir "$work/plugin/plugins" plugins describe sepia)
grep -q "^transform sepia 1.0.0 ($work/plugin/plugins/imagepipe-transform-sepia.so)" <<<"$out"

cat >"$work/sepia.yaml" <<YAML
name: sepia
source: {from: files}
transforms: [{use: sepia, with: {strength: 1}}, {use: encode, with: {format: png}}]
sink: {use: local, with: {root: "$work/out"}, key: "\${item.stem}.png"}
YAML
"$build_dir/bin/imagepipe" --plugin-dir "$work/plugin/plugins" run "$work/sepia.yaml" \
  --input "$source_dir/pipelines/samples/grid-2x2.png" --quiet
test -s "$work/out/grid-2x2.png"
echo "sdk example plugin: built, loaded and run"
