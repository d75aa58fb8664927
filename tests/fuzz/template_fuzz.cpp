// libFuzzer target for templates (core/src/template.cpp): pipeline files are user input and
// every string in them is split and compiled. Pieces must tile the text exactly (the
// loader points diagnostics at their offsets), and whatever compiles must render.
#include <cstdint>
#include <string_view>

#include "imagepipe/template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const nlohmann::json scope = {
      {"job", {{"id", "j"}, {"status", "completed"}}},
      {"items", {{{"url", "u"}, {"error", ""}}}},
      {"metrics", {{"errors", {"a", "b", "c"}}, {"processed", 3}}},
      {"request", {{"headers", {{"callbackurl", "h"}}}, {"body", {{"n", 1}}}}}};
  try {
    std::size_t at = 0;
    for (const auto& piece : imagepipe::split_template(text)) {
      if (piece.offset != at || piece.length == 0) __builtin_trap();
      at += piece.length;
    }
    if (at != text.size()) __builtin_trap();
  } catch (const imagepipe::TemplateError& e) {
    if (e.offset > text.size()) __builtin_trap();
    return 0;
  }
  try {
    const auto compiled = imagepipe::Template::compile_string(text);
    (void)compiled.render(scope);
    (void)compiled.render_string(scope);
  } catch (const imagepipe::TemplateError& e) {
    if (e.offset > text.size()) __builtin_trap();
  }
  return 0;
}
