#!/usr/bin/env bash
# .env.example lists exactly the variables the shipped pipelines (and serve configs) read: a pipeline that
# starts reading a new one, or stops reading one, fails this until the file follows.
set -euo pipefail
source_dir=$1

read_by_pipelines=$(grep -rhoE '\$\{[A-Z][A-Z0-9_]*' "$source_dir/pipelines" "$source_dir/serve" --include='*.yaml' |
  cut -c3- | sort -u)
# A serve config also names one by `api_keys_env: NAME`.
read_by_pipelines=$( (echo "$read_by_pipelines"; grep -rhoE 'api_keys_env: *[A-Z][A-Z0-9_]*' "$source_dir/serve" |
  sed 's/.*: *//') | sort -u)
listed=$(grep -oE '^# [A-Z][A-Z0-9_]*=' "$source_dir/.env.example" | cut -c3- | tr -d '=' | sort -u)

missing=$(comm -23 <(echo "$read_by_pipelines") <(echo "$listed"))
unused=$(comm -13 <(echo "$read_by_pipelines") <(echo "$listed"))
if [[ -n $missing ]]; then
  echo ".env.example lacks variables the pipelines read:" $missing >&2
fi
if [[ -n $unused ]]; then
  echo ".env.example lists variables no pipeline reads:" $unused >&2
fi
[[ -z $missing && -z $unused ]]
echo ".env.example: $(wc -l <<<"$listed") variables, the same the pipelines read"
