#include "text_fold.hpp"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <stdexcept>

namespace imagepipe::blocklist {

namespace {

const icu::Normalizer2& normalizer(bool nfd) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = nfd ? icu::Normalizer2::getNFDInstance(status)
                                  : icu::Normalizer2::getNFKCCasefoldInstance(status);
  if (U_FAILURE(status) || !n)
    throw std::runtime_error(std::string("ICU normalizer: ") + u_errorName(status));
  return *n;
}

}  // namespace

std::u32string fold(std::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  const auto text = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  // NFKC_Casefold unifies case and compatibility forms; NFD then splits accents off their
  // letters, and the marks are dropped.
  icu::UnicodeString folded = normalizer(false).normalize(text, status);
  icu::UnicodeString split = normalizer(true).normalize(folded, status);
  if (U_FAILURE(status))
    throw std::runtime_error(std::string("ICU normalize: ") + u_errorName(status));
  std::u32string out;
  out.reserve(static_cast<std::size_t>(split.length()));
  for (int32_t i = 0; i < split.length();) {
    const UChar32 c = split.char32At(i);
    i += U16_LENGTH(c);
    if (u_charType(c) == U_NON_SPACING_MARK) continue;
    out.push_back(static_cast<char32_t>(c));
  }
  return out;
}

bool is_word_char(char32_t c) { return u_isalnum(static_cast<UChar32>(c)) != 0; }

}  // namespace imagepipe::blocklist
