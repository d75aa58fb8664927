#!/usr/bin/env bash
# Checks `imagepipe openapi` with an independent validator: @apidevtools/swagger-parser
# (npm), installed on first use into a folder of the build tree, never into the sources.
# Both shapes are checked: the one document of every served pipeline, and the files that
# --out writes, one importable document per tool (watsonx Orchestrate imports a file).
#   validate_openapi.sh IMAGEPIPE_BINARY PIPELINES_DIR TOOLS_DIR
set -euo pipefail
binary=$1 pipelines=$2 tools=$3
mkdir -p "$tools"
if [ ! -d "$tools/node_modules/@apidevtools/swagger-parser" ]; then
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error @apidevtools/swagger-parser@10 >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Documenting needs no credentials: unset variables are allowed for `openapi`.
"$binary" openapi --server https://imagepipe.example.com "$pipelines" >"$work/all.json"
"$binary" openapi --server https://imagepipe.example.com --out "$work/tools" "$pipelines/wxo" >/dev/null
# With authentication: securitySchemes and per-operation security (docs/auth.md).
cat >"$work/auth.yaml" <<'YAML'
auth:
  api_keys: [{name: ci, sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}]
  oidc: {issuer: "https://login.microsoftonline.com/tenant/v2.0", audience: client-id}
YAML
"$binary" openapi --config "$work/auth.yaml" --server https://imagepipe.example.com "$pipelines" >"$work/auth.json"
NODE_PATH="$tools/node_modules" node - "$work/all.json" "$work/tools" "$work/auth.json" <<'JS'
const fs = require("fs");
const path = require("path");
const SwaggerParser = require("@apidevtools/swagger-parser");
const [all, toolsDir, secured] = process.argv.slice(2);

// Every operation needs an operationId and a description; an async one (with callbacks)
// takes its callback URL from the `callbackUrl` header, as Orchestrate sends it.
async function check(file) {
  const api = await SwaggerParser.validate(file);
  const ops = [];
  for (const [route, item] of Object.entries(api.paths))
    for (const [method, op] of Object.entries(item)) {
      if (!op.operationId || !op.description) throw new Error(`${file}: ${method} ${route}: operationId and description are required`);
      if (op.callbacks) {
        const header = (op.parameters || []).find((p) => p.in === "header" && p.name === "callbackUrl" && p.required);
        const [expression] = Object.keys(Object.values(op.callbacks)[0]);
        if (!header || expression !== "{$request.header.callbackUrl}") throw new Error(`${file}: ${op.operationId}: callbackUrl header and callback expression required`);
      }
      ops.push({route, method, op});
    }
  if (api.servers.length !== 1) throw new Error(`${file}: exactly one server URL is required`);
  return ops;
}

(async () => {
  const ops = await check(all);
  console.log(`valid OpenAPI: ${ops.map(({route, method, op}) => `${method.toUpperCase()} ${route}${op.callbacks ? " (async)" : ""}`).join(", ")}`);

  // The seeds' operationIds, so flows built on the seeds' tools import unchanged.
  const expected = {
    "wxo-edit-b64": ["/process-image-async-b64", "processImageAsyncToBase64", true],
    "wxo-edit-cos": ["/process-image-async", "processImageAsyncToCos", true],
    "wxo-batch": ["/batch-process-images", "batchProcessImages", true],
    "wxo-cos-config": ["/cos/config", "getCosConfig", false],
  };
  const files = fs.readdirSync(toolsDir).sort();
  const names = files.map((f) => path.basename(f, ".json")).sort();
  if (JSON.stringify(names) !== JSON.stringify(Object.keys(expected).sort())) throw new Error(`tool files: ${files.join(", ")}`);
  for (const file of files) {
    const [route, operationId, async] = expected[path.basename(file, ".json")];
    const tool = await check(path.join(toolsDir, file));
    if (tool.length !== 1 || tool[0].route !== route || tool[0].op.operationId !== operationId || !!tool[0].op.callbacks !== async)
      throw new Error(`${file}: expected only ${route} as ${operationId}${async ? " with callbacks" : ""}`);
    console.log(`valid tool ${file}: ${operationId}${async ? " (async)" : ""}`);
  }

  const securedOps = await check(secured);
  const schemes = Object.keys((await SwaggerParser.parse(secured)).components.securitySchemes || {}).sort().join(", ");
  if (schemes !== "ApiKeyBearer, ApiKeyHeader, OpenIdConnect") throw new Error(`${secured}: securitySchemes: ${schemes}`);
  for (const {route, method, op} of securedOps)
    if (!Array.isArray(op.security) || op.security.length !== 3 || !op.responses["401"])
      throw new Error(`${secured}: ${method} ${route}: security alternatives and a 401 answer required`);
  console.log(`valid OpenAPI with securitySchemes: ${schemes}`);
})().catch((err) => {
  console.error(`invalid: ${err.message}`);
  process.exit(1);
});
JS
