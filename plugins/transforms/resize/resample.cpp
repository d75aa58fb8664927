#include "resample.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace imagepipe::resample {
namespace {

constexpr int kBits = 14;  // weights sum to 1 << kBits
constexpr int kOne = 1 << kBits;

double sinc(double x) {
  if (x == 0) return 1;
  x *= M_PI;
  return std::sin(x) / x;
}

double kernel(Filter filter, double x) {
  x = std::abs(x);
  switch (filter) {
    case Filter::nearest:
      return x <= 0.5 ? 1 : 0;
    case Filter::bilinear:
      return x < 1 ? 1 - x : 0;
    case Filter::lanczos3:
      return x < 3 ? sinc(x) * sinc(x / 3) : 0;
  }
  return 0;
}

double radius(Filter filter) {
  switch (filter) {
    case Filter::nearest:
      return 0.5;
    case Filter::bilinear:
      return 1;
    case Filter::lanczos3:
      return 3;
  }
  return 1;
}

// For each output position along one axis: the first source index and its weights.
// Near the edges the kernel is cut at the border and renormalised (as Pillow does).
struct Taps {
  int count = 0;                      // taps per output position; even (SIMD takes pairs)
  std::vector<int> first;             // per output: first source index
  std::vector<std::int16_t> weights;  // per output: `count` weights summing to kOne
};

Taps compute_taps(int source_offset, int source_length, int output_length, Filter filter) {
  const double scale = double(source_length) / output_length;
  const double stretch = std::max(1.0, scale);  // widen the kernel when shrinking
  const double support = radius(filter) * stretch;
  Taps taps;
  // ceil(support) on each side plus the centre, rounded up to even with a zero weight.
  taps.count = filter == Filter::nearest ? 2 : int(std::ceil(support)) * 2 + 2;
  taps.first.resize(std::size_t(output_length));
  taps.weights.assign(std::size_t(output_length) * taps.count, 0);
  std::vector<double> w(std::size_t(taps.count));
  for (int i = 0; i < output_length; ++i) {
    const double center = (i + 0.5) * scale - 0.5;
    int start = filter == Filter::nearest ? int(std::floor(center + 0.5))
                                          : int(std::floor(center - support)) + 1;
    // Keep the window inside the source so every tap reads a real pixel.
    start = std::clamp(start, 0, std::max(0, source_length - taps.count + 1));
    double sum = 0;
    for (int k = 0; k < taps.count; ++k) {
      const int j = start + k;
      w[std::size_t(k)] =
          j < source_length
              ? (filter == Filter::nearest ? (k == 0) : kernel(filter, (j - center) / stretch))
              : 0;
      sum += w[std::size_t(k)];
    }
    std::int16_t* out = taps.weights.data() + std::size_t(i) * taps.count;
    int total = 0, biggest = 0;
    for (int k = 0; k < taps.count; ++k) {
      out[k] = std::int16_t(std::lround(w[std::size_t(k)] / (sum == 0 ? 1 : sum) * kOne));
      total += out[k];
      if (out[k] > out[biggest]) biggest = k;
    }
    out[biggest] = std::int16_t(out[biggest] + kOne - total);
    taps.first[std::size_t(i)] = source_offset + start;
  }
  return taps;
}

std::uint8_t clamp_round(std::int32_t acc) {
  return std::uint8_t(std::clamp((acc + (kOne / 2)) >> kBits, 0, 255));
}

#if defined(__SSE2__)
// SSE2 (every x86-64): _mm_madd_epi16 multiplies pairs of 16-bit values by pairs of
// weights and adds each pair into 32 bits, so taps are taken two at a time.

// Weights k and k+1 in every pair of 16-bit lanes.
__m128i weight_pair(const std::int16_t* w) {
  std::int32_t both;
  std::memcpy(&both, w, sizeof both);
  return _mm_set1_epi32(both);
}

// 16 sums (4 x 4 lanes of 32 bits) → 16 bytes, rounded and clamped to 0..255.
__m128i round_and_pack(__m128i s0, __m128i s1, __m128i s2, __m128i s3) {
  const __m128i half = _mm_set1_epi32(kOne / 2);
  s0 = _mm_srai_epi32(_mm_add_epi32(s0, half), kBits);
  s1 = _mm_srai_epi32(_mm_add_epi32(s1, half), kBits);
  s2 = _mm_srai_epi32(_mm_add_epi32(s2, half), kBits);
  s3 = _mm_srai_epi32(_mm_add_epi32(s3, half), kBits);
  return _mm_packus_epi16(_mm_packs_epi32(s0, s1), _mm_packs_epi32(s2, s3));
}
#endif

// Vertical pass: each output row is a weighted sum of whole source rows.
void vertical_pass(const Image& source, int x0, int row_values, const Taps& taps, Image& out) {
  const std::size_t stride = std::size_t(source.width) * source.channels;
  const std::uint8_t* base = source.pixels.data() + std::size_t(x0) * source.channels;
  std::vector<const std::uint8_t*> rows(std::size_t(taps.count) + 1);
  for (int y = 0; y < out.height; ++y) {
    const std::int16_t* w = taps.weights.data() + std::size_t(y) * taps.count;
    // Taps past the last row (sources shorter than the kernel) have weight zero; they
    // read the last row so that no read leaves the image.
    for (int k = 0; k < taps.count; ++k)
      rows[std::size_t(k)] =
          base + std::size_t(std::min(taps.first[std::size_t(y)] + k, source.height - 1)) * stride;
    std::uint8_t* dst = out.row(y);
    int x = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    for (; x + 16 <= row_values; x += 16) {
      __m128i s0 = zero, s1 = zero, s2 = zero, s3 = zero;
      for (int k = 0; k < taps.count; k += 2) {
        const __m128i a =
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[std::size_t(k)] + x));
        const __m128i b =
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[std::size_t(k) + 1] + x));
        const __m128i weights = weight_pair(w + k);
        const __m128i lo = _mm_unpacklo_epi8(a, b), hi = _mm_unpackhi_epi8(a, b);
        s0 = _mm_add_epi32(s0, _mm_madd_epi16(_mm_unpacklo_epi8(lo, zero), weights));
        s1 = _mm_add_epi32(s1, _mm_madd_epi16(_mm_unpackhi_epi8(lo, zero), weights));
        s2 = _mm_add_epi32(s2, _mm_madd_epi16(_mm_unpacklo_epi8(hi, zero), weights));
        s3 = _mm_add_epi32(s3, _mm_madd_epi16(_mm_unpackhi_epi8(hi, zero), weights));
      }
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + x), round_and_pack(s0, s1, s2, s3));
    }
#endif
    for (; x < row_values; ++x) {
      std::int32_t sum = 0;
      for (int k = 0; k < taps.count; ++k) sum += rows[std::size_t(k)][x] * w[k];
      dst[x] = clamp_round(sum);
    }
  }
}

// Horizontal pass: each output pixel is a weighted sum of neighbouring pixels in its row.
void horizontal_pass(const Image& source, const Taps& taps, Image& out) {
  const int channels = source.channels;
  const std::size_t row_bytes = std::size_t(source.width) * channels;
  // Pixels are read and written 4 bytes at a time, and taps of zero weight may lie past
  // the last pixel of a row narrower than the kernel: both row copies have room for that.
  std::vector<std::uint8_t> in_row(std::size_t(std::max(source.width, taps.count) + 2) * channels);
  std::vector<std::uint8_t> out_row(std::size_t(out.width) * channels + 4);
  for (int y = 0; y < out.height; ++y) {
    std::memcpy(in_row.data(), source.row(y), row_bytes);
    std::uint8_t* dst = out_row.data();
    for (int x = 0; x < out.width; ++x, dst += channels) {
      const std::int16_t* w = taps.weights.data() + std::size_t(x) * taps.count;
      const std::uint8_t* src = in_row.data() + std::size_t(taps.first[std::size_t(x)]) * channels;
#if defined(__SSE2__)
      if (channels >= 3) {
        const __m128i zero = _mm_setzero_si128();
        __m128i sum = zero;
        for (int k = 0; k < taps.count; k += 2, src += 2 * channels) {
          std::int32_t a, b;
          std::memcpy(&a, src, 4);
          std::memcpy(&b, src + channels, 4);
          const __m128i ab = _mm_unpacklo_epi8(_mm_cvtsi32_si128(a), _mm_cvtsi32_si128(b));
          sum = _mm_add_epi32(sum, _mm_madd_epi16(_mm_unpacklo_epi8(ab, zero), weight_pair(w + k)));
        }
        sum = _mm_srai_epi32(_mm_add_epi32(sum, _mm_set1_epi32(kOne / 2)), kBits);
        const __m128i bytes = _mm_packus_epi16(_mm_packs_epi32(sum, zero), zero);
        const std::int32_t pixel = _mm_cvtsi128_si32(bytes);
        std::memcpy(dst, &pixel, 4);
        continue;
      }
#endif
      std::int32_t sum[4] = {0, 0, 0, 0};
      for (int k = 0; k < taps.count; ++k, src += channels)
        for (int c = 0; c < channels; ++c) sum[c] += src[c] * w[k];
      for (int c = 0; c < channels; ++c) dst[c] = clamp_round(sum[c]);
    }
    std::memcpy(out.row(y), out_row.data(), std::size_t(out.width) * channels);
  }
}

}  // namespace

Image resample(const Image& source, Region region, int width, int height, Filter filter) {
  const Taps vertical = compute_taps(region.y, region.height, height, filter);
  const Taps horizontal = compute_taps(0, region.width, width, filter);
  // Shrinking: the vertical pass first (it vectorises over whole rows) on the region's
  // columns only, then the narrower horizontal pass.
  Image columns(region.width, height, source.channels);
  vertical_pass(source, region.x, region.width * source.channels, vertical, columns);
  Image out(width, height, source.channels);
  horizontal_pass(columns, horizontal, out);
  return out;
}

}  // namespace imagepipe::resample
