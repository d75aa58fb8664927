#!/usr/bin/env bash
# `cmake --install` gives a tree that runs where it lands: bin/imagepipe finds
# lib/libimagepipe.so (RPATH), searches lib/imagepipe/plugins by default, and serves the
# pipelines installed in share/imagepipe/pipelines without being told where they are.
set -euo pipefail
build_dir=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build_dir" --prefix "$prefix" >/dev/null
cd "$work"  # nothing from the build or source tree by relative path
unset LD_LIBRARY_PATH IMAGEPIPE_PLUGIN_PATH

version=$("$prefix/bin/imagepipe" --version)
[[ $version =~ ^imagepipe\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "--version printed '$version'" >&2; exit 1; }

# A plugin dropped into the installed folder is found; the built-ins' own modules there
# are not loaded twice (no warnings).
cp "$build_dir/test-plugins/imagepipe-provider-slow-echo.so" "$prefix/lib/imagepipe/plugins/"
"$prefix/bin/imagepipe" plugins list >list.out 2>list.err
grep -qF "[$prefix/lib/imagepipe/plugins/imagepipe-provider-slow-echo.so]" list.out ||
  { echo "slow-echo not loaded from the installed folder:" >&2; cat list.out list.err >&2; exit 1; }
# Built-ins carry no [path]: the installed copy of resize was not loaded over it.
grep -q "^transform/resize  *Resizes" list.out && ! grep -q "^transform/resize .*\[" list.out ||
  { echo "resize is not the built-in one:" >&2; cat list.out >&2; exit 1; }
[[ ! -s list.err ]] || { echo "plugins list warned:" >&2; cat list.err >&2; exit 1; }

# The installed pipelines are the default: a probe added there is served.
cat >"$prefix/share/imagepipe/pipelines/install-probe.yaml" <<'YAML'
name: install-probe
trigger:
  http: {method: GET, path: /install-probe, mode: template}
  response: {body: {ok: true}}
YAML
"$prefix/bin/imagepipe" openapi --pipeline install-probe >probe.json
grep -q '"/install-probe"' probe.json || { cat probe.json >&2; exit 1; }

# And a shipped pipeline runs from there with its sample.
"$prefix/bin/imagepipe" run "$prefix/share/imagepipe/pipelines/local-edit.yaml" \
  --input "$prefix/share/imagepipe/pipelines/samples/sample.jpg" --out "$work/out" --quiet
test -s "$work/out/local-edit/sample_modified.png"
test -f "$prefix/share/imagepipe/.env.example"

# OpenImageIO's readers run in bin/imagepipe-decode, found from lib/ with nothing set: a
# BMP (4x2, 24-bit, written here) goes through it.
test -x "$prefix/bin/imagepipe-decode"
python3 - "$work/in.bmp" <<'PY'
import struct, sys
w, h = 4, 2
row = bytes([0, 0, 255] * w)  # red, as BGR; rows are 12 bytes, already a multiple of 4
pixels = row * h
header = struct.pack('<2sIHHI', b'BM', 54 + len(pixels), 0, 0, 54)
info = struct.pack('<IiiHHIIiiII', 40, w, h, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
open(sys.argv[1], 'wb').write(header + info + pixels)
PY
"$prefix/bin/imagepipe" run "$prefix/share/imagepipe/pipelines/local-edit.yaml" \
  --input "$work/in.bmp" --out "$work/out-bmp" --quiet
test -s "$work/out-bmp/local-edit/in_modified.png"
echo "install tree: runs, finds its plugins and pipelines"
