// libFuzzer target for .env files (core/src/config/dotenv.cpp), read by `run` and `serve`
// beside the pipelines. Any text gives values or diagnostics that point inside it, and a
// value never holds a line break that was not written as an escape.
#include <cstdint>
#include <string_view>

#include "imagepipe/pipeline.hpp"

using namespace imagepipe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto values = parse_dotenv(text, ".env");
    const bool has_escape = text.find("\\n") != std::string_view::npos;
    for (const auto& [name, value] : values) {
      if (name.empty() || text.find(name) == std::string_view::npos) __builtin_trap();
      if (!has_escape && value.find('\n') != std::string::npos) __builtin_trap();
    }
  } catch (const PipelineError& e) {
    for (const auto& d : e.diagnostics()) {
      if (d.mark.line < 1 || d.mark.column < 1 || d.span < 1) __builtin_trap();
      if (static_cast<std::size_t>(d.mark.column - 1) > d.source_line.size()) __builtin_trap();
    }
    (void)e.format();
  }
  return 0;
}
