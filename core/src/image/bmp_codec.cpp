// BMP, read directly: Windows and OS/2 headers, 1/4/8-bit palettes, 16/24/32-bit pixels
// with or without bit-field masks. RLE-compressed files are refused with a clear message.
#include <array>
#include <bit>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "image/codecs.hpp"

namespace imagepipe::codec {
namespace {

constexpr std::uint32_t kRgb = 0, kRle8 = 1, kRle4 = 2, kBitFields = 3, kAlphaBitFields = 6;

std::uint32_t le32(const unsigned char* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
         std::uint32_t(p[3]) << 24;
}
std::uint16_t le16(const unsigned char* p) { return std::uint16_t(p[0] | p[1] << 8); }

struct Mask {
  std::uint32_t mask = 0;
  int shift = 0;
  std::uint64_t max = 0;  // largest value of the field
  explicit Mask(std::uint32_t m = 0) : mask(m) {
    if (!m) return;
    shift = std::countr_zero(m);
    // Only the contiguous low run of bits counts (masks are contiguous in valid files).
    max = (std::uint64_t(1) << std::countr_one(m >> shift)) - 1;
  }
  std::uint8_t extract(std::uint32_t pixel) const {
    if (!mask) return 255;
    return std::uint8_t((((pixel >> shift) & max) * 255 + max / 2) / max);
  }
};

struct Header {
  int width = 0;
  int height = 0;  // positive; top_down says the row order
  bool top_down = false;
  int bits = 0;
  std::uint32_t compression = kRgb;
  std::size_t pixel_offset = 0;
  std::size_t palette_offset = 0;
  int palette_entry = 4;  // bytes per palette entry (3 for OS/2)
  int palette_size = 0;
  Mask red, green, blue, alpha;
};

Header read_header(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 26) fail_corrupt(ImageFormat::bmp, "header ends early");
  Header h;
  h.pixel_offset = le32(p + 10);
  const std::uint32_t info_size = le32(p + 14);
  if (info_size == 12) {  // OS/2 BITMAPCOREHEADER
    h.width = le16(p + 18);
    h.height = le16(p + 20);
    h.bits = le16(p + 24);
    h.palette_entry = 3;
  } else if (info_size >= 40 && bytes.size() >= 14 + std::size_t(info_size)) {
    const auto width = std::int32_t(le32(p + 18)), height = std::int32_t(le32(p + 22));
    if (width <= 0 || height == 0 || height == INT32_MIN)
      fail_corrupt(ImageFormat::bmp,
                   "bad size " + std::to_string(width) + "x" + std::to_string(height));
    h.width = width;
    h.top_down = height < 0;
    h.height = h.top_down ? -height : height;
    h.bits = le16(p + 28);
    h.compression = le32(p + 30);
    h.palette_size = int(le32(p + 46));
    std::size_t masks = 14 + 40;  // masks follow a 40-byte header, or sit inside a larger one
    if (h.compression == kBitFields || h.compression == kAlphaBitFields) {
      const std::size_t count = h.compression == kAlphaBitFields || info_size >= 56 ? 4 : 3;
      if (bytes.size() < masks + 4 * count) fail_corrupt(ImageFormat::bmp, "header ends early");
      h.red = Mask(le32(p + masks)), h.green = Mask(le32(p + masks + 4)),
      h.blue = Mask(le32(p + masks + 8));
      if (count == 4) h.alpha = Mask(le32(p + masks + 12));
    }
  } else {
    fail_corrupt(ImageFormat::bmp, "unknown header size " + std::to_string(info_size));
  }
  // The palette follows the header, and the masks when a 40-byte header is followed by them.
  h.palette_offset = 14 + info_size;
  if (info_size == 40 && h.compression == kBitFields) h.palette_offset += 12;
  if (info_size == 40 && h.compression == kAlphaBitFields) h.palette_offset += 16;
  if (h.compression == kRle8 || h.compression == kRle4)
    throw Error(ErrorClass::invalid_input, "RLE-compressed BMP is not supported");
  if (h.compression != kRgb && h.compression != kBitFields && h.compression != kAlphaBitFields)
    throw Error(ErrorClass::invalid_input,
                "BMP compression " + std::to_string(h.compression) + " is not supported");
  if (h.bits != 1 && h.bits != 4 && h.bits != 8 && h.bits != 16 && h.bits != 24 && h.bits != 32)
    fail_corrupt(ImageFormat::bmp, std::to_string(h.bits) + " bits per pixel");
  if (h.compression == kRgb && h.bits == 16)
    h.red = Mask(0x7C00), h.green = Mask(0x03E0), h.blue = Mask(0x001F);
  if (h.bits <= 8 && (h.palette_size <= 0 || h.palette_size > (1 << h.bits)))
    h.palette_size = 1 << h.bits;
  return h;
}

int channels_of(const Header& h) { return h.alpha.mask ? 4 : 3; }

}  // namespace

ImageInfo probe_bmp(std::string_view bytes) {
  const Header h = read_header(bytes);
  return {ImageFormat::bmp, h.width, h.height, channels_of(h)};
}

Image decode_bmp(std::string_view bytes) {
  const Header h = read_header(bytes);
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t stride = (std::size_t(h.width) * h.bits + 31) / 32 * 4;
  if (h.pixel_offset > bytes.size() ||
      (bytes.size() - h.pixel_offset) / stride < std::size_t(h.height))
    fail_corrupt(ImageFormat::bmp, "pixel data ends early");
  std::vector<std::array<std::uint8_t, 3>> palette(std::size_t(h.bits <= 8 ? h.palette_size : 0));
  for (std::size_t i = 0; i < palette.size(); ++i) {
    const std::size_t at = h.palette_offset + i * std::size_t(h.palette_entry);
    if (at + 3 > h.pixel_offset) fail_corrupt(ImageFormat::bmp, "palette ends early");
    palette[i] = {data[at + 2], data[at + 1], data[at]};  // stored as BGR
  }

  Image image(h.width, h.height, channels_of(h));
  for (int y = 0; y < h.height; ++y) {
    const unsigned char* row = data + h.pixel_offset + stride * std::size_t(y);
    std::uint8_t* out = image.row(h.top_down ? y : h.height - 1 - y);
    for (int x = 0; x < h.width; ++x, out += image.channels) {
      if (h.bits <= 8) {
        const int per_byte = 8 / h.bits;
        const int shift = 8 - h.bits * (x % per_byte + 1);
        const unsigned index = (row[x / per_byte] >> shift) & ((1u << h.bits) - 1);
        // Out-of-range indices (damaged files) show as black rather than failing.
        const auto rgb = index < palette.size() ? palette[index] : std::array<std::uint8_t, 3>{};
        std::memcpy(out, rgb.data(), 3);
      } else if (h.bits == 24 || (h.bits == 32 && h.compression == kRgb)) {
        const unsigned char* px = row + std::size_t(x) * (h.bits / 8);
        out[0] = px[2], out[1] = px[1], out[2] = px[0];
      } else {
        const std::uint32_t px =
            h.bits == 16 ? le16(row + std::size_t(x) * 2) : le32(row + std::size_t(x) * 4);
        out[0] = h.red.extract(px), out[1] = h.green.extract(px), out[2] = h.blue.extract(px);
        if (image.channels == 4) out[3] = h.alpha.extract(px);
      }
    }
  }
  return image;
}

}  // namespace imagepipe::codec
