// GIF, read directly: the first frame, placed on the logical screen. Pixels outside the
// frame and the transparent colour become alpha 0.
#include <array>
#include <string>
#include <vector>

#include "image/codecs.hpp"

namespace imagepipe::codec {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  std::uint8_t byte() {
    if (pos_ >= bytes_.size()) fail_corrupt(ImageFormat::gif, "unexpected end of data");
    return static_cast<std::uint8_t>(bytes_[pos_++]);
  }
  int le16() {
    const int lo = byte();
    return lo | byte() << 8;
  }
  std::string_view take(std::size_t n) {
    if (n > bytes_.size() - pos_) fail_corrupt(ImageFormat::gif, "unexpected end of data");
    pos_ += n;
    return bytes_.substr(pos_ - n, n);
  }
  // Concatenated data sub-blocks up to the zero-length terminator.
  std::string sub_blocks() {
    std::string out;
    for (int n = byte(); n != 0; n = byte()) out += take(std::size_t(n));
    return out;
  }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

using Palette = std::vector<std::array<std::uint8_t, 3>>;

Palette read_palette(Reader& in, int flags) {
  Palette palette(std::size_t(1) << ((flags & 7) + 1));
  for (auto& rgb : palette) {
    const std::string_view c = in.take(3);
    rgb = {std::uint8_t(c[0]), std::uint8_t(c[1]), std::uint8_t(c[2])};
  }
  return palette;
}

struct Frame {
  int screen_width = 0, screen_height = 0;
  int left = 0, top = 0, width = 0, height = 0;
  bool interlaced = false;
  int transparent = -1;
  Palette palette;
  int min_code_size = 0;
  bool covers_screen() const {
    return left == 0 && top == 0 && width >= screen_width && height >= screen_height;
  }
  int channels() const { return transparent >= 0 || !covers_screen() ? 4 : 3; }
};

// Reads up to the first image's LZW data (which stays in `in`).
Frame read_first_frame(Reader& in) {
  in.take(6);  // GIF87a / GIF89a
  Frame f;
  f.screen_width = in.le16();
  f.screen_height = in.le16();
  const int flags = in.byte();
  in.take(2);  // background colour index, aspect ratio
  Palette global;
  if (flags & 0x80) global = read_palette(in, flags);
  for (;;) {
    const int block = in.byte();
    if (block == 0x21) {  // extension
      const int label = in.byte();
      const std::string data = in.sub_blocks();
      if (label == 0xF9 && data.size() >= 4 && (data[0] & 1)) f.transparent = std::uint8_t(data[3]);
    } else if (block == 0x2C) {  // image descriptor
      f.left = in.le16(), f.top = in.le16(), f.width = in.le16(), f.height = in.le16();
      const int image_flags = in.byte();
      f.interlaced = image_flags & 0x40;
      f.palette = image_flags & 0x80 ? read_palette(in, image_flags) : std::move(global);
      if (f.palette.empty()) fail_corrupt(ImageFormat::gif, "no colour table");
      f.min_code_size = in.byte();
      if (f.min_code_size < 2 || f.min_code_size > 8)
        fail_corrupt(ImageFormat::gif, "bad LZW code size " + std::to_string(f.min_code_size));
      // Some writers leave the logical screen at 0x0.
      if (f.screen_width == 0 || f.screen_height == 0)
        f.screen_width = f.left + f.width, f.screen_height = f.top + f.height;
      // The pixel limit is checked on the screen; a frame larger than its screen would be
      // decompressed whole before clipping (30 bytes declaring 65535x65535 asked for 4 GB:
      // found by tests/fuzz/image_fuzz.cpp).
      if (std::uint64_t(f.width) * f.height > std::uint64_t(f.screen_width) * f.screen_height)
        fail_corrupt(ImageFormat::gif, "frame " + std::to_string(f.width) + "x" +
                                           std::to_string(f.height) + " is larger than its " +
                                           std::to_string(f.screen_width) + "x" +
                                           std::to_string(f.screen_height) + " screen");
      return f;
    } else {
      fail_corrupt(ImageFormat::gif, block == 0x3B ? "no image" : "unknown block");
    }
  }
}

// LZW as GIF uses it: variable code width up to 12 bits, clear and end codes.
std::vector<std::uint8_t> decompress(const std::string& data, int min_code_size,
                                     std::size_t count) {
  const int clear = 1 << min_code_size, end = clear + 1;
  std::vector<std::uint16_t> prefix(4096);
  std::vector<std::uint8_t> suffix(4096), first(4096), stack;
  for (int i = 0; i < clear; ++i) suffix[std::size_t(i)] = first[std::size_t(i)] = std::uint8_t(i);
  std::vector<std::uint8_t> out;
  out.reserve(count);
  int width = min_code_size + 1, next = end + 1, previous = -1;
  std::uint32_t bits = 0;
  int held = 0;
  for (std::size_t i = 0; i < data.size() && out.size() < count;) {
    while (held < width && i < data.size())
      bits |= std::uint32_t(std::uint8_t(data[i++])) << held, held += 8;
    if (held < width) break;
    const int code = int(bits & ((1u << width) - 1));
    bits >>= width, held -= width;
    if (code == clear) {
      width = min_code_size + 1, next = end + 1, previous = -1;
      continue;
    }
    if (code == end) break;
    if (previous < 0) {
      if (code >= clear) fail_corrupt(ImageFormat::gif, "bad LZW code");
      out.push_back(std::uint8_t(code));
      previous = code;
      continue;
    }
    if (code > next || (code == next && next >= 4096))
      fail_corrupt(ImageFormat::gif, "bad LZW code");
    // code == next is the one case whose string is not in the table yet: previous + its first.
    int walk = code == next ? previous : code;
    stack.clear();
    if (code == next) stack.push_back(first[std::size_t(previous)]);
    while (walk >= clear) {
      stack.push_back(suffix[std::size_t(walk)]);
      walk = prefix[std::size_t(walk)];
    }
    stack.push_back(std::uint8_t(walk));
    out.insert(out.end(), stack.rbegin(), stack.rend());
    if (next < 4096) {
      prefix[std::size_t(next)] = std::uint16_t(previous);
      suffix[std::size_t(next)] = std::uint8_t(walk);
      first[std::size_t(next)] = first[std::size_t(previous)];
      if (++next == (1 << width) && width < 12) ++width;
    }
    previous = code;
  }
  if (out.size() < count) fail_corrupt(ImageFormat::gif, "image data ends early");
  out.resize(count);
  return out;
}

// Row order of an interlaced frame: every 8th from 0, every 8th from 4, every 4th from 2,
// every 2nd from 1.
std::vector<int> row_order(int height, bool interlaced) {
  std::vector<int> rows;
  if (!interlaced) {
    for (int y = 0; y < height; ++y) rows.push_back(y);
    return rows;
  }
  for (auto [start, step] : {std::pair{0, 8}, {4, 8}, {2, 4}, {1, 2}})
    for (int y = start; y < height; y += step) rows.push_back(y);
  return rows;
}

}  // namespace

ImageInfo probe_gif(std::string_view bytes) {
  Reader in(bytes);
  const Frame f = read_first_frame(in);
  return {ImageFormat::gif, f.screen_width, f.screen_height, f.channels()};
}

Image decode_gif(std::string_view bytes) {
  Reader in(bytes);
  const Frame f = read_first_frame(in);
  const std::vector<std::uint8_t> indices =
      decompress(in.sub_blocks(), f.min_code_size, std::size_t(f.width) * f.height);
  Image image(f.screen_width, f.screen_height, f.channels());  // zero: transparent black
  const std::vector<int> rows = row_order(f.height, f.interlaced);
  for (int r = 0; r < f.height; ++r) {
    const int y = f.top + rows[std::size_t(r)];
    if (y >= image.height) continue;
    for (int x = 0; x < f.width && f.left + x < image.width; ++x) {
      const std::uint8_t index = indices[std::size_t(r) * f.width + x];
      if (index == f.transparent) continue;
      std::uint8_t* px = image.at(f.left + x, y);
      const auto rgb = index < f.palette.size() ? f.palette[index] : std::array<std::uint8_t, 3>{};
      px[0] = rgb[0], px[1] = rgb[1], px[2] = rgb[2];
      if (image.channels == 4) px[3] = 255;
    }
  }
  return image;
}

}  // namespace imagepipe::codec
