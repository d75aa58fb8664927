#!/usr/bin/env bash
# libFuzzer targets for the parsers of untrusted bytes that are our own code or wrap a
# library with code of ours (tests/fuzz/*_fuzz.cpp): request bodies' pre-parse scans,
# the HTTP request reader, URLs and the egress policy, multipart bodies, templates, cron,
# pipeline files, .env files, S3/Azure XML answers and the image decoders. Built with clang
# (the main build uses g++) with ASan and UBSan, seeded from tests/fuzz/corpus/<target>/.
# Findings are written to build-fuzz/; add each, minimised, to the corpus as a regression
# input once fixed.
#   scripts/fuzz.sh                 # 10 minutes per target
#   scripts/fuzz.sh 6               # the smoke run the test command does (6 s per target)
#   FUZZ_TARGETS="url http" scripts/fuzz.sh 60
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
out=${FUZZ_DIR:-build-fuzz}

packages=(clang-14 libclang-rt-14-dev libhowardhinnant-date-dev nlohmann-json3-dev libboost-dev
          libyaml-cpp-dev libvalijson-dev libspdlog-dev libpugixml-dev libturbojpeg0-dev
          libpng-dev libwebp-dev libfreetype-dev libboost-filesystem-dev ccache
          libgif-dev libexif-dev libtiff-dev libopenimageio-dev liburiparser-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Every object is compiled once with the same flags (and cached by ccache across runs and
# clones), then shared by the targets that link it.
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
       -DUSE_OS_TZDB=1 -DBOOST_ASIO_NO_DEPRECATED -DBOOST_ASIO_HAS_CO_AWAIT=1 -DBOOST_ASIO_HAS_STD_COROUTINE=1 -Icore/include -Icore/src -Irunner/daemon/src -Itests
       -Iplugins/storage/s3 -Iplugins/storage/azure-blob -I/usr/include/freetype2)
link=(-fsanitize=fuzzer,address,undefined)
config_sources=$(ls core/src/config/*.cpp core/src/plugins/*.cpp | tr '\n' ' ')
# The OpenImageIO module's source is linked in (libimagepipe finds it by its weak symbol),
# so its code is instrumented and its path fuzzed like the built-in codecs.
image_sources=$(ls core/src/image/{image_codec,gif_codec,jpeg_codec,png_codec,png_fast_writer,webp_codec,tiff_codec,oiio_codec,decoder_client,orientation,format,pixels,channels}.cpp core/oiio/oiio_module.cpp | tr '\n' ' ')
declare -A sources=(
  [json_scan]="runner/daemon/src/json_field_scan.cpp"
  [template]="core/src/template.cpp"
  [cron]="core/src/schedule/cron.cpp core/src/config/suggest.cpp"
  [http]="runner/daemon/src/serve_http_parse.cpp"
  [url]="core/src/http/url.cpp core/src/http/egress.cpp core/src/error.cpp"
  [multipart]="core/src/http/multipart.cpp"
  [dotenv]="core/src/config/dotenv.cpp core/src/config/diagnostics.cpp core/src/config/suggest.cpp"
  [pipeline]="$config_sources core/src/template.cpp core/src/schedule/cron.cpp core/src/error.cpp"
  [storage_xml]="plugins/storage/s3/s3_xml.cpp plugins/storage/azure-blob/azure_xml.cpp core/src/http/retry.cpp core/src/http/headers.cpp core/src/error.cpp"
  [image]="$image_sources core/src/error.cpp"
  [image_oiio]="$image_sources core/src/error.cpp"
)
declare -A libraries=(
  [cron]="-ldate-tz"
  [pipeline]="-ldate-tz -lyaml-cpp -lboost_filesystem -lspdlog -lfmt"
  [url]="-luriparser"
  [storage_xml]="-lpugixml"
  [image]="-lturbojpeg -lpng -lwebp -lgif -lexif -lOpenImageIO -lOpenImageIO_Util -lz -ldl"
  [image_oiio]="-lturbojpeg -lpng -lwebp -lgif -lexif -lOpenImageIO -lOpenImageIO_Util -lz -ldl"
)
# The order of a run; also the default set.
all=(json_scan template cron http url multipart dotenv pipeline storage_xml image image_oiio)
# The smoke run (the test command's): every target. image_oiio holds OpenImageIO's readers
# to the decoder's memory limit as the helper process does (image_oiio_fuzz.cpp).
smoke=("${all[@]}")
if ((seconds <= 60)); then default=("${smoke[@]}"); else default=("${all[@]}"); fi
read -r -a targets <<<"${FUZZ_TARGETS:-${default[*]}}"

compiler=(clang++-14)
command -v ccache >/dev/null && compiler=(ccache clang++-14)
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache} CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1

mkdir -p "$out/obj"
object() { echo "$out/obj/${1//\//_}.o"; }
# Compile what the chosen targets need, one per core; ccache answers for unchanged sources.
needed=$(for t in "${targets[@]}"; do echo "tests/fuzz/${t}_fuzz.cpp"; tr ' ' '\n' <<<"${sources[$t]}"; done | sort -u | grep .)
jobs=0
for s in $needed; do
  "${compiler[@]}" "${flags[@]}" -c "$s" -o "$(object "$s")" &
  if ((++jobs >= $(nproc))); then wait -n; ((jobs--)); fi
done
while ((jobs > 0)); do wait -n; ((jobs--)); done

# Short runs (the test command's smoke) are a fixed seed and a fixed number of inputs
# (FUZZ_RUNS, 10,000 per target), not a time: the same inputs on every machine, so CI never
# fails on a chance discovery that no one can reproduce, and a slow machine runs them all.
# Long runs explore for the given time.
seed=(-max_total_time="$seconds")
((seconds <= 60)) && seed=(-seed=1 -runs="${FUZZ_RUNS:-10000}")
status=0
# What scripts/test.sh prints last: one line per target and the cause of any finding.
summary=$out/fuzz-summary.txt
: >"$summary"
for target in "${targets[@]}"; do
  # shellcheck disable=SC2046,SC2086 # the object and library lists are words on purpose
  clang++-14 "${link[@]}" $(for s in tests/fuzz/${target}_fuzz.cpp ${sources[$target]}; do object "$s"; done) \
    ${libraries[$target]:-} -o "$out/${target}_fuzz"
  corpus="$out/corpus-$target"
  mkdir -p "$corpus"
  cp -n tests/fuzz/corpus/"${target%_oiio}"/* "$corpus"/ 2>/dev/null || true
  log="$out/$target.log"
  # OpenImageIO's readers run a few hundred inputs a second where the others run thousands:
  # its smoke run is 2,000 inputs, to stay within the run's time.
  if ((seconds <= 60)) && [[ $target == image_oiio ]]; then
    seed=(-seed=1 -runs="${FUZZ_OIIO_RUNS:-2000}")
  elif ((seconds <= 60)); then
    seed=(-seed=1 -runs="${FUZZ_RUNS:-10000}")
  fi
  max_len=4096
  [[ $target == image* ]] && max_len=65536
  # An input slower than 10 s or an allocation over 1 GB is a finding, and the whole run is
  # cut 2 minutes past its time: a smoke run must never hold CI up (libFuzzer's own
  # defaults are 20 minutes per input, and a run stuck reporting an out-of-memory).
  if ASAN_OPTIONS=detect_leaks=1 timeout --signal=KILL $((seconds + 120)) "$out/${target}_fuzz" "$corpus" \
      "${seed[@]}" -timeout=10 -malloc_limit_mb=1024 -rss_limit_mb=2048 \
      -max_len=$max_len -print_final_stats=1 -artifact_prefix="$out/$target-" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    printf 'fuzz %-11s %9s inputs, %6s exec/s, no finding\n' "$target:" "$runs" "$rate" | tee -a "$summary"
  else
    echo "fuzz $target: FINDING (see $log and $out/$target-*)"
    tail -30 "$log"
    {
      echo "fuzz $target: FINDING"
      grep -m8 -E 'ERROR|SUMMARY|runtime error|Test unit written|timeout|out-of-memory|Base64' "$log" || tail -5 "$log"
    } >>"$summary"
    status=1
  fi
done
exit $status
