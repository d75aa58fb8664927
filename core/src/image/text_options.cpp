// The small parsers behind TextStyle: colours, positions and the default font.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

#include "imagepipe/text.hpp"

namespace imagepipe {
namespace {

std::string normalised(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::optional<std::array<std::uint8_t, 3>> parse_color(std::string_view text) {
  const std::string s = normalised(text);
  if (s.size() == 7 || s.size() == 4) {
    if (s[0] != '#') return std::nullopt;
    const bool short_form = s.size() == 4;
    std::array<std::uint8_t, 3> rgb{};
    for (int i = 0; i < 3; ++i) {
      const int hi = hex_digit(s[short_form ? 1 + i : 1 + 2 * i]);
      const int lo = hex_digit(s[short_form ? 1 + i : 2 + 2 * i]);
      if (hi < 0 || lo < 0) return std::nullopt;
      rgb[std::size_t(i)] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return rgb;
  }
  struct Named {
    std::string_view name;
    std::array<std::uint8_t, 3> rgb;
  };
  static constexpr Named kNamed[] = {
      {"red", {255, 0, 0}},      {"green", {0, 128, 0}},     {"lime", {0, 255, 0}},
      {"blue", {0, 0, 255}},     {"white", {255, 255, 255}}, {"black", {0, 0, 0}},
      {"yellow", {255, 255, 0}}, {"cyan", {0, 255, 255}},    {"magenta", {255, 0, 255}},
      {"gray", {128, 128, 128}}, {"grey", {128, 128, 128}},  {"orange", {255, 165, 0}},
      {"purple", {128, 0, 128}}, {"navy", {0, 0, 128}},      {"silver", {192, 192, 192}},
  };
  for (const Named& named : kNamed)
    if (named.name == s) return named.rgb;
  return std::nullopt;
}

std::optional<TextPosition> text_position_from_string(std::string_view text) {
  std::string s = normalised(text);
  std::replace(s.begin(), s.end(), '_', '-');
  std::replace(s.begin(), s.end(), ' ', '-');
  if (s == "center" || s == "centre" || s == "middle") return TextPosition::center;
  if (s == "top") return TextPosition::top;
  if (s == "bottom") return TextPosition::bottom;
  if (s == "top-left") return TextPosition::top_left;
  if (s == "top-right") return TextPosition::top_right;
  if (s == "bottom-left") return TextPosition::bottom_left;
  if (s == "bottom-right") return TextPosition::bottom_right;
  return std::nullopt;
}

std::string default_font_path() {
  if (const char* env = std::getenv("IMAGEPIPE_FONT"); env && *env) return env;
  return "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
}

}  // namespace imagepipe
