// UTF-8 to code points, replacing malformed sequences with U+FFFD rather than failing:
// text comes from requests and must never stop an image from being produced.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace imagepipe::text {

inline std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    int extra = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (lead < 0x80) {
      cp = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      extra = 1, cp = lead & 0x1F, min = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      extra = 2, cp = lead & 0x0F, min = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      extra = 3, cp = lead & 0x07, min = 0x10000;
    } else {
      out.push_back(U'\uFFFD');
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    for (; j <= i + std::size_t(extra); ++j) {
      if (j >= s.size() || (static_cast<unsigned char>(s[j]) & 0xC0) != 0x80) break;
      cp = (cp << 6) | (static_cast<unsigned char>(s[j]) & 0x3F);
    }
    if (j != i + 1 + std::size_t(extra) || cp < min || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      out.push_back(U'\uFFFD');
      i = std::max(j, i + 1);
      continue;
    }
    out.push_back(cp);
    i = j;
  }
  return out;
}

}  // namespace imagepipe::text
