#!/usr/bin/env bash
# The command line's own descriptions: global options anywhere on the line, -q, --help with
# examples, the man page (groff finds nothing to warn about, every command is in it) and
# shell completion (bash completes commands, subcommands, options and their values; zsh
# loads the same), each generated from the parser's definitions.
set -euo pipefail
build_dir=$(cd "$1" && pwd)
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
bin=$build_dir/bin/imagepipe
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "cli docs: $*" >&2; exit 1; }

# Global options after the command, and -q: nothing on stdout or stderr, the result written.
"$bin" run "$source_dir/pipelines/local-edit.yaml" -i "$source_dir/pipelines/samples/sample.jpg" \
  -o "$work/out" --log-format json -q >"$work/run.out" 2>"$work/run.err"
[[ ! -s $work/run.out && ! -s $work/run.err ]] || fail "-q printed: $(cat "$work/run.out" "$work/run.err")"
[[ $(stat -c %s "$work/out/local-edit/sample_modified.png") -gt 1000 ]] || fail "-q run wrote no result"
"$bin" validate "$source_dir/pipelines/local-edit.yaml" --log-level error >/dev/null
# A global option's value is still checked where it stands.
if "$bin" validate "$source_dir/pipelines/local-edit.yaml" --log-format yaml 2>"$work/bad.err"; then
  fail "--log-format yaml accepted"
fi
grep -q "log-format" "$work/bad.err" || fail "bad --log-format not named: $(cat "$work/bad.err")"

"$bin" run --help | grep -q "^Examples:" || fail "run --help has no examples"
"$bin" jobs list --help | grep -q "imagepipe jobs list --status failed" || fail "jobs list --help has no examples"

# The man page: clean roff, every command and subcommand in it.
"$bin" man >"$work/imagepipe.1"
warnings=$(groff -man -Tutf8 -ww -z "$work/imagepipe.1" 2>&1)
[[ -z $warnings ]] || fail "groff warns: $warnings"
for cmd in run validate plugins "plugins describe" serve openapi "jobs list" "jobs cancel" completion; do
  grep -q "^\.SS \"imagepipe $cmd" "$work/imagepipe.1" || fail "man page lacks '$cmd'"
done
grep -q '^\.SH EXIT STATUS' "$work/imagepipe.1" || fail "man page lacks EXIT STATUS"
cmp -s "$work/imagepipe.1" "$build_dir/share/imagepipe.1" || fail "build/share/imagepipe.1 is stale"

# bash: what a user gets pressing Tab.
"$bin" completion bash >"$work/imagepipe.bash"
complete_words() {
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _imagepipe; echo "${COMPREPLY[*]}"' \
    _ "$work/imagepipe.bash" "$@"
}
[[ $(complete_words imagepipe jobs l) == list ]] || fail "jobs l -> '$(complete_words imagepipe jobs l)'"
[[ $(complete_words imagepipe se) == serve ]] || fail "se -> '$(complete_words imagepipe se)'"
[[ $(complete_words imagepipe run --log-level w) == warn ]] || fail "--log-level w"
[[ $(complete_words imagepipe jobs list --status comp) == "completed completed_with_errors" ]] ||
  fail "--status comp -> '$(complete_words imagepipe jobs list --status comp)'"
complete_words imagepipe run --js | grep -qw -- --json || fail "run --js"
complete_words imagepipe serve --q | grep -qw -- --quiet || fail "a global option after serve"
(cd "$source_dir" && [[ $(complete_words imagepipe validate pipelines/local-ed) == pipelines/local-edit.yaml ]]) ||
  fail "file names after validate"

# zsh (when installed): the script loads and defines the completion.
if command -v zsh >/dev/null; then
  "$bin" completion zsh >"$work/imagepipe.zsh"
  zsh -f -c "source '$work/imagepipe.zsh' && (( \$+functions[_imagepipe] ))" || fail "zsh script does not load"
fi
echo "cli docs: global options anywhere, -q, help examples, man page and completion agree with the parser"
