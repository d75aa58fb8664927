// A separable resampler for 8-bit interleaved images: weights computed once per axis in
// 14-bit fixed point, a vertical pass over whole rows (vectorised), then a horizontal pass.
#pragma once

#include "imagepipe/image.hpp"

namespace imagepipe::resample {

enum class Filter { nearest, bilinear, lanczos3 };

// A region of the source, in pixels.
struct Region {
  int x = 0, y = 0, width = 0, height = 0;
};

// Resamples `region` of `source` to width x height with the same channel count.
Image resample(const Image& source, Region region, int width, int height, Filter filter);

}  // namespace imagepipe::resample
