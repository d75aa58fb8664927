// Text as a blocklist compares it: Unicode case folded, compatibility forms unified
// (fullwidth letters, ligatures) and accents removed, so "ＢÁＤ", "Bad" and "bád" are one
// word.
#pragma once

#include <string>
#include <string_view>

namespace imagepipe::blocklist {

// UTF-32 code points of the folded text. Invalid UTF-8 becomes U+FFFD.
std::u32string fold(std::string_view utf8);

// Whether `c` is part of a word (a letter or digit in any script).
bool is_word_char(char32_t c);

}  // namespace imagepipe::blocklist
