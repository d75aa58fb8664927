// libFuzzer target for the request body's pre-parse scans (runner/src/json_field_scan.cpp):
// the image member cut out unparsed and the depth/size/count limits. Both read every
// client's bytes before any parser does. Besides not crashing, a cut must agree with a
// real JSON parser: the member it returns is the member nlohmann finds, and a body with a
// key twice (which parsers read differently) is refused by the parse the daemon uses.
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "json_field_scan.hpp"

using namespace imagepipe::serve;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)exceeded_json_limit(body, JsonLimits{});
  (void)exceeded_json_limit(body, JsonLimits{.depth = 3, .string_bytes = 16, .values = 8}, "image");
  const auto cut = cut_string_member(body, "image");
  if (!cut) return 0;
  if (cut->rest.size() + cut->value.size() != body.size()) __builtin_trap();
  // What the daemon's fast path then accepts: the rest parses, its "image" is "".
  nlohmann::json rest;
  try {
    rest = parse_unique_keys(cut->rest, /*allow_exceptions=*/false);
  } catch (const DuplicateKey&) {
    return 0;  // the daemon parses the whole body then, and refuses it
  }
  if (rest.is_discarded() || !rest.is_object()) return 0;
  const auto hole = rest.find("image");
  if (hole == rest.end() || !hole->is_string() || !hole->get_ref<const std::string&>().empty())
    return 0;
  // Then the full parse, where there is one, must see the same image.
  nlohmann::json whole;
  try {
    whole = parse_unique_keys(body, /*allow_exceptions=*/false);
  } catch (const DuplicateKey&) {
    __builtin_trap();  // the rest had no key twice, so neither has the body
  }
  if (whole.is_discarded()) return 0;  // bytes base64 refuses anyway (e.g. not UTF-8)
  const auto member = whole.find("image");
  if (member == whole.end() || !member->is_string() ||
      member->get_ref<const std::string&>() != cut->value)
    __builtin_trap();
  return 0;
}
