// PNG through libpng. libpng reports errors by longjmp, so every function that calls into
// it sets its own jump point and keeps no C++ object with a destructor in that frame.
#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <string>
#include <vector>

#include "image/codecs.hpp"
#include "image/png_fast_writer.hpp"

namespace imagepipe::codec {
namespace {

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

// ---- probe -----------------------------------------------------------------------------

struct ChunkWalk {
  bool has_trns = false;
  std::uint64_t idat_bytes = 0;
};

// Reads chunk headers only (no decompression), up to IEND or the end of the data.
ChunkWalk walk_chunks(std::string_view bytes) {
  ChunkWalk walk;
  std::size_t pos = 8;
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  while (pos + 8 <= bytes.size()) {
    const std::uint64_t length = be32(data + pos);
    const std::string_view type(bytes.data() + pos + 4, 4);
    if (type == "tRNS") walk.has_trns = true;
    if (type == "IDAT") walk.idat_bytes += std::min<std::uint64_t>(length, bytes.size() - pos - 8);
    if (type == "IEND") break;
    pos += 12 + length;
  }
  return walk;
}

// Samples stored per pixel in the compressed rows (a palette index is one sample).
int samples_per_pixel(int color_type) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_PALETTE:
      return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      return 2;
    case PNG_COLOR_TYPE_RGB:
      return 3;
    default:
      return 4;
  }
}

int channels_for(int color_type, bool has_trns) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
      return has_trns ? 2 : 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      return 2;
    case PNG_COLOR_TYPE_RGB:
    case PNG_COLOR_TYPE_PALETTE:
      return has_trns ? 4 : 3;
    case PNG_COLOR_TYPE_RGB_ALPHA:
      return 4;
    default:
      return 0;
  }
}

// ---- decode ----------------------------------------------------------------------------

struct MemoryReader {
  const unsigned char* data;
  std::size_t size;
  std::size_t pos;
};

void read_from_memory(png_structp png, png_bytep out, png_size_t length) {
  auto* reader = static_cast<MemoryReader*>(png_get_io_ptr(png));
  if (length > reader->size - reader->pos) png_error(png, "unexpected end of data");
  std::memcpy(out, reader->data + reader->pos, length);
  reader->pos += length;
}

struct ErrorSink {
  char message[200] = "unknown libpng error";
};

void on_png_error(png_structp png, png_const_charp message) {
  auto* sink = static_cast<ErrorSink*>(png_get_error_ptr(png));
  std::snprintf(sink->message, sizeof sink->message, "%s", message);
  png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}

struct ReadHandles {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~ReadHandles() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

struct DecodedHeader {
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  int channels = 0;
};

// deflate cannot expand data more than 1032:1; a header declaring more pixels than the
// compressed data could hold is refused before any inflating or pixel buffer.
void check_data_can_hold_pixels(std::string_view bytes) {
  const ImageInfo probed = probe_png(bytes);
  const auto* ihdr = reinterpret_cast<const unsigned char*>(bytes.data()) + 16;
  const std::uint64_t bits_per_pixel = std::uint64_t(ihdr[8]) * samples_per_pixel(ihdr[9]);
  const std::uint64_t row_bytes = 1 + (std::uint64_t(probed.width) * bits_per_pixel + 7) / 8;
  const std::uint64_t idat = walk_chunks(bytes).idat_bytes;
  if (row_bytes * std::uint64_t(probed.height) > (idat + 64) * 1032)
    fail_corrupt(ImageFormat::png, "declares " + std::to_string(probed.width) + "x" +
                                       std::to_string(probed.height) + " pixels but holds only " +
                                       std::to_string(idat) + " bytes of image data");
}

// libpng reading `bytes`, with the tolerance every read shares: common real-world defects
// (bad iCCP profiles, ancillary CRC errors) stay warnings. Not movable: libpng keeps
// pointers to its members.
struct PngReading {
  explicit PngReading(std::string_view bytes)
      : reader{reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), 0} {
    h.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &errors, on_png_error, on_png_warning);
    if (!h.png) throw std::bad_alloc();
    h.info = png_create_info_struct(h.png);
    if (!h.info) throw std::bad_alloc();
    png_set_benign_errors(h.png, 1);
    png_set_option(h.png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
    png_set_read_fn(h.png, &reader, read_from_memory);
  }
  PngReading(const PngReading&) = delete;
  PngReading& operator=(const PngReading&) = delete;

  [[noreturn]] void fail() const { fail_corrupt(ImageFormat::png, errors.message); }

  ErrorSink errors;
  MemoryReader reader;
  ReadHandles h;  // destroyed first
};

bool read_info(png_structp png, png_infop info) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  return true;
}

// Reads the header and sets up the conversions to 8-bit, 1-4 channels.
bool read_header(png_structp png, png_infop info, DecodedHeader* out) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  const int color_type = png_get_color_type(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (bit_depth == 16) png_set_scale_16(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  out->width = png_get_image_width(png, info);
  out->height = png_get_image_height(png, info);
  out->channels = png_get_channels(png, info);
  return true;
}

bool read_rows(png_structp png, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  return true;
}

// Every row of every interlace pass into the same buffer, untransformed, then the chunks up
// to IEND: all of the file is read and every CRC checked, with one row in memory.
bool read_all_rows_into(png_structp png, png_infop info, png_bytep row) {
  if (setjmp(png_jmpbuf(png))) return false;
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  for (int pass = 0; pass < passes; ++pass)
    for (png_uint_32 y = 0; y < height; ++y) png_read_row(png, row, nullptr);
  png_read_end(png, nullptr);
  return true;
}

// ---- encode ----------------------------------------------------------------------------

struct StringWriter {
  std::string* out;
  bool failed;
};

void write_to_string(png_structp png, png_bytep data, png_size_t length) {
  auto* writer = static_cast<StringWriter*>(png_get_io_ptr(png));
  try {
    writer->out->append(reinterpret_cast<const char*>(data), length);
  } catch (...) {
    writer->failed = true;
    png_error(png, "out of memory while writing PNG");
  }
}

void flush_nothing(png_structp) {}

struct WriteHandles {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~WriteHandles() { png_destroy_write_struct(&png, info ? &info : nullptr); }
};

int color_type_for(int channels) {
  switch (channels) {
    case 1:
      return PNG_COLOR_TYPE_GRAY;
    case 2:
      return PNG_COLOR_TYPE_GRAY_ALPHA;
    case 3:
      return PNG_COLOR_TYPE_RGB;
    default:
      return PNG_COLOR_TYPE_RGB_ALPHA;
  }
}

struct PngTuning {
  int strategy;
  int fixed_filter;  // PNG filter type for every row, or -1: libpng chooses per row
};

// Measured on photographs and on the photo-like benchmark images (bench/README.md):
// after a Paeth filter, photographic rows hold almost no repeated strings, so Z_RLE
// matches zlib level 6 in size at a third of the time; libpng's per-row choice among all
// five filters gains a few percent more at about 1.4x the cost; the Up filter is cheaper
// still but 10-20% larger. Drawings and screenshots repeat strings, which only the
// classic levels find.
PngTuning tuning_for(int level) {
  if (level == 0) return {Z_DEFAULT_STRATEGY, 0};
  if (level == 1) return {Z_RLE, 2};
  if (level <= 3) return {Z_RLE, 4};
  if (level <= 5) return {Z_RLE, -1};
  return {Z_DEFAULT_STRATEGY, -1};
}

bool write_png(png_structp png, png_infop info, const Image* image, png_bytepp rows,
               int zlib_level) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_IHDR(png, info, png_uint_32(image->width), png_uint_32(image->height), 8,
               color_type_for(image->channels), PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, zlib_level);
  png_set_compression_strategy(png, tuning_for(zlib_level).strategy);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_ALL_FILTERS);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, info);
  return true;
}

}  // namespace

ImageInfo probe_png(std::string_view bytes) {
  // Signature (8) + IHDR length and type (8) + IHDR data (13).
  if (bytes.size() < 8 + 8 + 13 || bytes.substr(12, 4) != "IHDR")
    fail_corrupt(ImageFormat::png, "no IHDR header after the signature");
  const auto* ihdr = reinterpret_cast<const unsigned char*>(bytes.data()) + 16;
  ImageInfo info;
  info.format = ImageFormat::png;
  const std::uint32_t width = be32(ihdr);
  const std::uint32_t height = be32(ihdr + 4);
  if (width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX)
    fail_corrupt(ImageFormat::png, "width or height out of range");
  info.width = int(width);
  info.height = int(height);
  info.channels = channels_for(ihdr[9], walk_chunks(bytes).has_trns);
  if (info.channels == 0)
    fail_corrupt(ImageFormat::png, "unknown colour type " + std::to_string(ihdr[9]));
  return info;
}

Image decode_png(std::string_view bytes) {
  check_data_can_hold_pixels(bytes);
  PngReading png(bytes);
  DecodedHeader header;
  if (!read_header(png.h.png, png.h.info, &header)) png.fail();
  if (header.channels < 1 || header.channels > 4)
    fail_corrupt(ImageFormat::png, "unsupported channel count " + std::to_string(header.channels));

  Image image(int(header.width), int(header.height), header.channels);
  std::vector<png_bytep> rows(header.height);
  for (png_uint_32 y = 0; y < header.height; ++y) rows[y] = image.row(int(y));
  if (!read_rows(png.h.png, rows.data())) png.fail();
  return image;
}

void verify_png(std::string_view bytes) {
  check_data_can_hold_pixels(bytes);
  PngReading png(bytes);
  if (!read_info(png.h.png, png.h.info)) png.fail();
  std::vector<unsigned char> row(png_get_rowbytes(png.h.png, png.h.info));
  if (!read_all_rows_into(png.h.png, png.h.info, row.data())) png.fail();
}

std::string encode_png(const Image& image, int zlib_level) {
  zlib_level = std::clamp(zlib_level, 0, 9);
  // One filter for every row: filtered here, much faster than libpng's scalar filters.
  if (const PngTuning tuning = tuning_for(zlib_level); tuning.fixed_filter >= 0)
    return encode_png_fast(image, zlib_level, tuning.strategy, tuning.fixed_filter);
  std::string out;
  // Room for the whole image at a typical photographic ratio; grows if needed.
  out.reserve(image.pixels.size() / 2 + 1024);
  ErrorSink errors;
  StringWriter writer{&out, false};
  WriteHandles h;
  h.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &errors, on_png_error, on_png_warning);
  if (!h.png) throw std::bad_alloc();
  h.info = png_create_info_struct(h.png);
  if (!h.info) throw std::bad_alloc();
  png_set_write_fn(h.png, &writer, write_to_string, flush_nothing);

  std::vector<png_bytep> rows(std::size_t(image.height));
  for (int y = 0; y < image.height; ++y) rows[std::size_t(y)] = const_cast<png_bytep>(image.row(y));
  if (!write_png(h.png, h.info, &image, rows.data(), zlib_level)) {
    if (writer.failed) throw std::bad_alloc();
    throw Error(ErrorClass::internal, std::string("PNG encoder failed: ") + errors.message);
  }
  return out;
}

}  // namespace imagepipe::codec
