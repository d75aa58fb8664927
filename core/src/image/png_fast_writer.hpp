#pragma once

#include <string>

#include "image/codecs.hpp"

namespace imagepipe::codec {

// A complete PNG of `image` (8-bit, 1-4 channels, not interlaced) with every row filtered
// by `filter` (0 none, 2 up, 4 Paeth) and deflated at zlib `level` with `strategy`.
std::string encode_png_fast(const Image& image, int level, int strategy, int filter);

}  // namespace imagepipe::codec
