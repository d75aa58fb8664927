#include <array>
#include <cstdint>
#include <cstdio>

#include "imagepipe/error.hpp"
#include "imagepipe/http.hpp"

namespace imagepipe {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::int8_t kInvalid = -1;
constexpr std::int8_t kSkip = -2;  // whitespace
constexpr std::int8_t kPad = -3;

// Both alphabets at once: '+' and '-' are 62, '/' and '_' are 63.
constexpr std::array<std::int8_t, 256> make_decode_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  table['-'] = 62;
  table['_'] = 63;
  table['='] = kPad;
  for (unsigned char c : {' ', '\t', '\r', '\n', '\f', '\v'}) table[c] = kSkip;
  return table;
}
constexpr auto kDecode = make_decode_table();

// Printable characters are shown as themselves, anything else as \xNN so that a binary
// byte never lands raw in a log line.
std::string describe_char(unsigned char c) {
  if (c >= 0x20 && c < 0x7f) return std::string(1, static_cast<char>(c));
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02X", c);
  return buf;
}

[[noreturn]] void fail_at(unsigned char c, std::size_t offset) {
  throw Error(ErrorClass::invalid_input, "invalid base64: unexpected character '" +
                                             describe_char(c) + "' at offset " +
                                             std::to_string(offset));
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  std::uint32_t bits = 0;
  int pending = 0;  // sextets accumulated in `bits`
  std::size_t digits = 0;
  bool padding = false;  // once '=' is seen only more '=' and whitespace may follow
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::int8_t v = kDecode[c];
    if (v == kSkip) continue;
    if (v == kPad) {
      padding = true;
      continue;
    }
    if (v == kInvalid || padding) fail_at(c, i);
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    ++digits;
    if (++pending == 4) {
      out += static_cast<char>((bits >> 16) & 0xff);
      out += static_cast<char>((bits >> 8) & 0xff);
      out += static_cast<char>(bits & 0xff);
      bits = 0;
      pending = 0;
    }
  }
  if (pending == 1) {
    throw Error(ErrorClass::invalid_input, "invalid base64: truncated input (" +
                                               std::to_string(digits) +
                                               " digits; a final group needs at least 2)");
  }
  if (pending == 2) {
    out += static_cast<char>((bits >> 4) & 0xff);
  } else if (pending == 3) {
    out += static_cast<char>((bits >> 10) & 0xff);
    out += static_cast<char>((bits >> 2) & 0xff);
  }
  return out;
}

}  // namespace imagepipe
