// libFuzzer target for the cron parser (pipeline YAML is user input). Built and run by
// scripts/fuzz.sh (clang; the CMake build uses g++), or by hand:
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -DUSE_OS_TZDB=1 \
//     -Icore/include -Icore/src tests/fuzz/cron_fuzz.cpp core/src/schedule/cron.cpp \
//     core/src/config/suggest.cpp -ldate-tz -o /tmp/cron_fuzz && /tmp/cron_fuzz -max_total_time=60
#include <cstdint>
#include <string_view>

#include "imagepipe/cron.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto* zone = imagepipe::find_time_zone("Europe/Paris");
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto schedule = imagepipe::CronSchedule::parse(text, zone);
    (void)schedule.next_after(std::chrono::system_clock::time_point{} +
                              std::chrono::hours(24 * 20000));
  } catch (const imagepipe::CronError& e) {
    if (e.length == 0 || (size > 0 && e.offset + e.length > size)) __builtin_trap();
  }
  return 0;
}
