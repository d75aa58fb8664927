#!/usr/bin/env bash
# The SDK works from outside the tree: install it, build the three examples in docs/examples
# (a transform, a provider, a storage) with find_package(imagepipe), run each one's own tests
# (imagepipe::testing's PluginHarness against the built library), then load them into the
# runner and run a job through all three.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/sdk" >/dev/null
plugins=()
for example in sepia-plugin tint-provider folder-storage; do
  cmake -S "$source_dir/docs/examples/$example" -B "$work/$example" -G Ninja \
    -DCMAKE_PREFIX_PATH="$work/sdk" -DCMAKE_BUILD_TYPE=Release >"$work/$example.log" 2>&1 ||
    { cat "$work/$example.log" >&2; exit 1; }
  cmake --build "$work/$example" >>"$work/$example.log" 2>&1 || { cat "$work/$example.log" >&2; exit 1; }
  # Each example's tests ran and passed (a suite of zero tests would not print this).
  ctest --test-dir "$work/$example" --output-on-failure >"$work/$example.ctest" 2>&1 ||
    { cat "$work/$example.ctest" >&2; exit 1; }
  grep -q "100% tests passed, 0 tests failed out of 1" "$work/$example.ctest" ||
    { cat "$work/$example.ctest" >&2; exit 1; }
  plugins+=(--plugin-dir "$work/$example/plugins")
done

out=$("$build_dir/bin/imagepipe" "${plugins[@]}" plugins describe sepia)
grep -q "^transform sepia 1.0.0 ($work/sepia-plugin/plugins/imagepipe-transform-sepia.so)" <<<"$out" ||
  { echo "$out" >&2; exit 1; }

# One job through all three: the tint provider, the sepia transform, the folder storage.
cat >"$work/examples.yaml" <<YAML
name: examples
source: {from: files}
provider: {use: tint, with: {colour: "#0000ff", amount: 0.5}}
transforms: [{use: sepia, with: {strength: 1}}, {use: encode, with: {format: png}}]
sink: {use: folder, with: {root: "$work/objects"}, key: "out/\${item.stem}.png"}
YAML
"$build_dir/bin/imagepipe" "${plugins[@]}" run "$work/examples.yaml" \
  --input "$source_dir/pipelines/samples/grid-2x2.png" --quiet
test -s "$work/objects/out%2Fgrid-2x2.png" || { ls -la "$work/objects" >&2; exit 1; }
echo "sdk examples: built out of tree, their tests passed, a job ran through all three"
