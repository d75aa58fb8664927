// Hand-built PNG files for codec tests: any bit depth and colour type, extra chunks, and
// headers that lie about their size. The image data is stored uncompressed (deflate
// "stored" blocks), so no zlib is needed to make them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace imagepipe::testing {

inline std::uint32_t crc32_of(const std::string& bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

inline void put_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(char((v >> shift) & 0xFF));
}

inline std::string png_chunk(const std::string& type, const std::string& data) {
  std::string out;
  put_be32(out, std::uint32_t(data.size()));
  const std::string body = type + data;
  out += body;
  put_be32(out, crc32_of(body));
  return out;
}

// A zlib stream holding `raw` in stored blocks.
inline std::string zlib_stored(const std::string& raw) {
  std::string out("\x78\x01", 2);
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min<std::size_t>(65535, raw.size() - pos);
    out.push_back(pos + n == raw.size() ? 1 : 0);
    out.push_back(char(n & 0xFF)), out.push_back(char(n >> 8));
    out.push_back(char(~n & 0xFF)), out.push_back(char((~n >> 8) & 0xFF));
    out += raw.substr(pos, n);
    pos += n;
  } while (pos < raw.size());
  std::uint32_t a = 1, b = 0;
  for (unsigned char byte : raw) a = (a + byte) % 65521, b = (b + a) % 65521;
  put_be32(out, (b << 16) | a);
  return out;
}

// `scanlines` are the raw rows without filter bytes; each row gets filter type 0.
inline std::string make_png(std::uint32_t width, std::uint32_t height, int bit_depth,
                            int color_type, const std::string& scanlines,
                            const std::vector<std::pair<std::string, std::string>>& chunks = {}) {
  std::string ihdr;
  put_be32(ihdr, width);
  put_be32(ihdr, height);
  ihdr += {char(bit_depth), char(color_type), 0, 0, 0};
  std::string raw;
  const std::size_t row_bytes = height ? scanlines.size() / height : 0;
  for (std::uint32_t y = 0; y < height && row_bytes; ++y)
    raw += '\0' + scanlines.substr(y * row_bytes, row_bytes);
  std::string png("\x89PNG\r\n\x1a\n", 8);
  png += png_chunk("IHDR", ihdr);
  for (const auto& [type, data] : chunks) png += png_chunk(type, data);
  png += png_chunk("IDAT", zlib_stored(raw));
  png += png_chunk("IEND", "");
  return png;
}

}  // namespace imagepipe::testing
