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
  // Written through a pointer into a pre-sized string: appending a character at a time
  // costs several times more on the daemon's hot path.
  std::string out((bytes.size() + 2) / 3 * 4, '=');
  char* o = out.data();
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3, o += 4) {
    const std::uint32_t n = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    o[0] = kAlphabet[(n >> 18) & 63];
    o[1] = kAlphabet[(n >> 12) & 63];
    o[2] = kAlphabet[(n >> 6) & 63];
    o[3] = kAlphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = in[i] << 16;
    if (rest == 2) n |= in[i + 1] << 8;
    o[0] = kAlphabet[(n >> 18) & 63];
    o[1] = kAlphabet[(n >> 12) & 63];
    if (rest == 2) o[2] = kAlphabet[(n >> 6) & 63];
  }
  return out;
}

std::string base64_decode(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  char* o = out.data();
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t i = 0;
  // Fast path: whole groups of four plain digits (nearly all of any real input). The
  // first padding, whitespace or invalid character hands over to the careful loop below.
  for (; i + 4 <= text.size(); i += 4, o += 3) {
    const std::int32_t a = kDecode[in[i]], b = kDecode[in[i + 1]], c = kDecode[in[i + 2]],
                       d = kDecode[in[i + 3]];
    if ((a | b | c | d) < 0) break;
    const std::uint32_t n = (static_cast<std::uint32_t>(a) << 18) |
                            (static_cast<std::uint32_t>(b) << 12) |
                            (static_cast<std::uint32_t>(c) << 6) | static_cast<std::uint32_t>(d);
    o[0] = static_cast<char>(n >> 16);
    o[1] = static_cast<char>((n >> 8) & 0xff);
    o[2] = static_cast<char>(n & 0xff);
  }
  out.resize(static_cast<std::size_t>(o - out.data()));
  std::uint32_t bits = 0;
  int pending = 0;  // sextets accumulated in `bits`
  std::size_t digits = i;
  bool padding = false;  // once '=' is seen only more '=' and whitespace may follow
  for (; i < text.size(); ++i) {
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
