// GIF through giflib: the first frame, placed on the logical screen. Pixels outside the
// frame and the transparent colour become alpha 0. giflib's record-level API is used
// rather than DGifSlurp, which decodes every frame of an animation into memory at once.
#include <gif_lib.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "image/codecs.hpp"

namespace imagepipe::codec {
namespace {

struct GifMemory {
  std::string_view bytes;
  std::size_t pos = 0;
};

int read_memory(GifFileType* gif, GifByteType* out, int wanted) {
  auto* m = static_cast<GifMemory*>(gif->UserData);
  const std::size_t count = std::min(std::size_t(std::max(wanted, 0)), m->bytes.size() - m->pos);
  std::copy_n(m->bytes.data() + m->pos, count, reinterpret_cast<char*>(out));
  m->pos += count;
  return int(count);
}

[[noreturn]] void fail(int code) {
  // A short read is what a file cut in half gives; the other codes have giflib's words.
  if (code == D_GIF_ERR_READ_FAILED || code == D_GIF_ERR_EOF_TOO_SOON)
    fail_corrupt(ImageFormat::gif, "unexpected end of data");
  const char* text = GifErrorString(code);
  fail_corrupt(ImageFormat::gif, text ? text : "error " + std::to_string(code));
}

struct CloseGif {
  void operator()(GifFileType* gif) const {
    int ignored = 0;
    DGifCloseFile(gif, &ignored);
  }
};

struct Frame {
  int screen_width = 0, screen_height = 0;
  int left = 0, top = 0, width = 0, height = 0;
  bool interlaced = false;
  int transparent = -1;
  const ColorMapObject* palette = nullptr;  // owned by the GifFileType
  bool covers_screen() const {
    return left == 0 && top == 0 && width >= screen_width && height >= screen_height;
  }
  int channels() const { return transparent >= 0 || !covers_screen() ? 4 : 3; }
};

// An open GIF positioned at the first frame's pixel data.
class OpenGif {
 public:
  explicit OpenGif(std::string_view bytes) : memory_{bytes, 0} {
    int error = 0;
    gif_.reset(DGifOpen(&memory_, read_memory, &error));
    if (!gif_) fail(error);
    frame_ = read_first_frame();
  }
  const Frame& frame() const { return frame_; }

  // One row of palette indices, in the order the file stores rows.
  void read_row(std::vector<GifPixelType>& row) {
    if (DGifGetLine(gif_.get(), row.data(), int(row.size())) != GIF_OK) fail(gif_->Error);
  }

 private:
  Frame read_first_frame() {
    GifFileType* gif = gif_.get();
    Frame f;
    f.screen_width = gif->SWidth;
    f.screen_height = gif->SHeight;
    for (;;) {
      GifRecordType record = UNDEFINED_RECORD_TYPE;
      if (DGifGetRecordType(gif, &record) != GIF_OK) fail(gif->Error);
      if (record == EXTENSION_RECORD_TYPE) {
        int code = 0;
        GifByteType* block = nullptr;
        if (DGifGetExtension(gif, &code, &block) != GIF_OK) fail(gif->Error);
        GraphicsControlBlock control;
        if (code == GRAPHICS_EXT_FUNC_CODE && block &&
            DGifExtensionToGCB(block[0], block + 1, &control) == GIF_OK)
          f.transparent = control.TransparentColor;
        while (block) {
          if (DGifGetExtensionNext(gif, &block) != GIF_OK) fail(gif->Error);
        }
      } else if (record == IMAGE_DESC_RECORD_TYPE) {
        if (DGifGetImageDesc(gif) != GIF_OK) fail(gif->Error);
        const GifImageDesc& d = gif->Image;
        f.left = d.Left, f.top = d.Top, f.width = d.Width, f.height = d.Height;
        f.interlaced = d.Interlace;
        f.palette = d.ColorMap ? d.ColorMap : gif->SColorMap;
        if (!f.palette || f.palette->ColorCount <= 0)
          fail_corrupt(ImageFormat::gif, "no colour table");
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
        if (f.width <= 0 || f.height <= 0) fail_corrupt(ImageFormat::gif, "empty frame");
        return f;
      } else if (record == TERMINATE_RECORD_TYPE) {
        fail_corrupt(ImageFormat::gif, "no image");
      } else {
        fail_corrupt(ImageFormat::gif, "unknown block");
      }
    }
  }

  GifMemory memory_;
  std::unique_ptr<GifFileType, CloseGif> gif_;
  Frame frame_;
};

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
  const OpenGif gif(bytes);
  const Frame& f = gif.frame();
  return {ImageFormat::gif, f.screen_width, f.screen_height, f.channels()};
}

Image decode_gif(std::string_view bytes) {
  OpenGif gif(bytes);
  const Frame& f = gif.frame();
  Image image(f.screen_width, f.screen_height, f.channels());  // zero: transparent black
  std::vector<GifPixelType> row(std::size_t(f.width));
  const std::vector<int> rows = row_order(f.height, f.interlaced);
  const auto* colours = f.palette->Colors;
  const int count = f.palette->ColorCount;
  for (int r = 0; r < f.height; ++r) {
    gif.read_row(row);
    const int y = f.top + rows[std::size_t(r)];
    if (y >= image.height) continue;
    for (int x = 0; x < f.width && f.left + x < image.width; ++x) {
      const int index = row[std::size_t(x)];
      if (index == f.transparent) continue;
      std::uint8_t* px = image.at(f.left + x, y);
      if (index < count)
        px[0] = colours[index].Red, px[1] = colours[index].Green, px[2] = colours[index].Blue;
      else
        px[0] = px[1] = px[2] = 0;
      if (image.channels == 4) px[3] = 255;
    }
  }
  return image;
}

}  // namespace imagepipe::codec
