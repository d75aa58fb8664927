// The fast PNG levels (0-3) written without libpng: one fixed filter per level, rows
// filtered here with SSE2 and handed straight to zlib. libpng's write-side filters are
// scalar, and on photographs filtering was half the time of a fast-level encode.
#include <zlib.h>

#include <cstring>
#include <string>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "image/png_fast_writer.hpp"

namespace imagepipe::codec {
namespace {

constexpr std::uint8_t kFilterNone = 0, kFilterUp = 2, kFilterPaeth = 4;
constexpr std::size_t kIdatChunk = 1 << 20;

void put_be32(std::string& out, std::uint32_t v) {
  const char bytes[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  out.append(bytes, 4);
}

void put_chunk(std::string& out, const char* type, const char* data, std::size_t size) {
  put_be32(out, std::uint32_t(size));
  const std::size_t start = out.size();
  out.append(type, 4);
  out.append(data, size);
  const auto* crc_from = reinterpret_cast<const Bytef*>(out.data() + start);
  put_be32(out, std::uint32_t(crc32_z(crc32_z(0, nullptr, 0), crc_from, size + 4)));
}

std::uint8_t paeth_predictor(int a, int b, int c) {
  const int pa = std::abs(b - c), pb = std::abs(a - c), pc = std::abs(a + b - 2 * c);
  return std::uint8_t(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

// out[i] = row[i] - paeth(row[i - bpp], prev[i], prev[i - bpp]), all on the raw bytes.
void filter_paeth(const std::uint8_t* row, const std::uint8_t* prev, int bpp, std::size_t n,
                  std::uint8_t* out) {
  std::size_t i = 0;
  for (; i < std::size_t(bpp) && i < n; ++i)
    out[i] = std::uint8_t(row[i] - paeth_predictor(0, prev[i], 0));
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  auto load8 = [&](const std::uint8_t* p) {
    return _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), zero);
  };
  auto abs16 = [&](__m128i v) { return _mm_max_epi16(v, _mm_sub_epi16(zero, v)); };
  for (; i + 8 <= n; i += 8) {
    const __m128i a = load8(row + i - bpp), b = load8(prev + i), c = load8(prev + i - bpp);
    const __m128i pa = abs16(_mm_sub_epi16(b, c));
    const __m128i pb = abs16(_mm_sub_epi16(a, c));
    const __m128i pc = abs16(_mm_sub_epi16(_mm_add_epi16(a, b), _mm_add_epi16(c, c)));
    // a when pa <= pb and pa <= pc; else b when pb <= pc; else c.
    const __m128i not_a = _mm_or_si128(_mm_cmpgt_epi16(pa, pb), _mm_cmpgt_epi16(pa, pc));
    const __m128i not_b = _mm_cmpgt_epi16(pb, pc);
    const __m128i b_or_c = _mm_or_si128(_mm_andnot_si128(not_b, b), _mm_and_si128(not_b, c));
    const __m128i predicted =
        _mm_or_si128(_mm_andnot_si128(not_a, a), _mm_and_si128(not_a, b_or_c));
    const __m128i raw = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + i));
    const __m128i residual = _mm_sub_epi8(raw, _mm_packus_epi16(predicted, zero));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), residual);
  }
#endif
  for (; i < n; ++i)
    out[i] = std::uint8_t(row[i] - paeth_predictor(row[i - bpp], prev[i], prev[i - bpp]));
}

void filter_up(const std::uint8_t* row, const std::uint8_t* prev, std::size_t n,
               std::uint8_t* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = std::uint8_t(row[i] - prev[i]);
}

class Deflater {
 public:
  Deflater(int level, int strategy) {
    if (deflateInit2(&stream_, level, Z_DEFLATED, 15, 9, strategy) != Z_OK)
      throw Error(ErrorClass::internal, "zlib could not be initialised");
  }
  ~Deflater() { deflateEnd(&stream_); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  void add(const std::uint8_t* data, std::size_t size, bool last) {
    stream_.next_in = const_cast<Bytef*>(data);
    stream_.avail_in = uInt(size);
    int rc;
    do {
      if (out_.size() - used_ < 65536) out_.resize(std::max<std::size_t>(out_.size() * 2, 1 << 20));
      stream_.next_out = reinterpret_cast<Bytef*>(out_.data() + used_);
      stream_.avail_out = uInt(out_.size() - used_);
      rc = deflate(&stream_, last ? Z_FINISH : Z_NO_FLUSH);
      used_ = out_.size() - stream_.avail_out;
    } while (stream_.avail_in > 0 || (last && rc != Z_STREAM_END));
  }
  std::string_view output() const { return {out_.data(), used_}; }

 private:
  z_stream stream_{};
  std::string out_;
  std::size_t used_ = 0;
};

}  // namespace

std::string encode_png_fast(const Image& image, int level, int strategy, int filter) {
  const int bpp = image.channels;
  const std::size_t row_bytes = std::size_t(image.width) * bpp;
  Deflater deflater(level, strategy);
  // Rows are filtered into a block of about 256 KiB and deflated together.
  const std::size_t rows_per_block = std::max<std::size_t>(1, (256 << 10) / (row_bytes + 1));
  std::vector<std::uint8_t> block(rows_per_block * (row_bytes + 1));
  const std::vector<std::uint8_t> zero_row(row_bytes, 0);
  const std::uint8_t filter_byte = filter == 0   ? kFilterNone
                                   : filter == 2 ? kFilterUp
                                                 : kFilterPaeth;
  for (int y = 0; y < image.height;) {
    std::uint8_t* out = block.data();
    const int end = int(std::min<std::size_t>(std::size_t(image.height), y + rows_per_block));
    for (; y < end; ++y, out += row_bytes + 1) {
      const std::uint8_t* row = image.row(y);
      const std::uint8_t* prev = y > 0 ? image.row(y - 1) : zero_row.data();
      out[0] = filter_byte;
      if (filter_byte == kFilterPaeth)
        filter_paeth(row, prev, bpp, row_bytes, out + 1);
      else if (filter_byte == kFilterUp)
        filter_up(row, prev, row_bytes, out + 1);
      else
        std::memcpy(out + 1, row, row_bytes);
    }
    deflater.add(block.data(), std::size_t(out - block.data()), y == image.height);
  }

  static constexpr std::uint8_t kColorTypes[5] = {0, 0, 4, 2, 6};  // by channel count
  std::string ihdr;
  put_be32(ihdr, std::uint32_t(image.width));
  put_be32(ihdr, std::uint32_t(image.height));
  ihdr += {char(8), char(kColorTypes[bpp]), 0, 0, 0};
  const std::string_view idat = deflater.output();
  std::string png("\x89PNG\r\n\x1a\n", 8);
  png.reserve(idat.size() + idat.size() / kIdatChunk * 12 + 64);
  put_chunk(png, "IHDR", ihdr.data(), ihdr.size());
  for (std::size_t at = 0; at < idat.size(); at += kIdatChunk)
    put_chunk(png, "IDAT", idat.data() + at, std::min(kIdatChunk, idat.size() - at));
  put_chunk(png, "IEND", "", 0);
  return png;
}

}  // namespace imagepipe::codec
