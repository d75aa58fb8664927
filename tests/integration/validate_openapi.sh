#!/usr/bin/env bash
# Checks `imagepipe openapi` with an independent validator: @apidevtools/swagger-parser
# (npm), installed on first use into a folder of the build tree, never into the sources.
#   validate_openapi.sh IMAGEPIPE_BINARY PIPELINES_DIR TOOLS_DIR
set -euo pipefail
binary=$1 pipelines=$2 tools=$3
mkdir -p "$tools"
if [ ! -d "$tools/node_modules/@apidevtools/swagger-parser" ]; then
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error @apidevtools/swagger-parser@10 >/dev/null
fi
doc=$(mktemp --suffix=.json)
trap 'rm -f "$doc"' EXIT
# Documenting needs no credentials: unset variables are allowed for `openapi`.
"$binary" openapi --server https://imagepipe.example.com "$pipelines" >"$doc"
NODE_PATH="$tools/node_modules" node - "$doc" <<'JS'
const SwaggerParser = require("@apidevtools/swagger-parser");
const file = process.argv[2];
SwaggerParser.validate(file)
  .then((api) => {
    const ops = [];
    for (const [path, item] of Object.entries(api.paths))
      for (const [method, op] of Object.entries(item)) {
        if (!op.operationId || !op.description) throw new Error(`${method} ${path}: operationId and description are required`);
        ops.push(`${method.toUpperCase()} ${path}${op.callbacks ? " (async)" : ""}`);
      }
    if (api.servers.length !== 1) throw new Error("exactly one server URL is required");
    console.log(`valid OpenAPI ${api.openapi}: ${ops.join(", ")}`);
  })
  .catch((err) => {
    console.error(`invalid: ${err.message}`);
    process.exit(1);
  });
JS
