#include <algorithm>
#include <cstring>
#include <string>

#include "image/codecs.hpp"

namespace imagepipe {

Image crop_image(const Image& image, int x, int y, int width, int height) {
  if (width <= 0 || height <= 0 || x < 0 || y < 0 || x > image.width - width ||
      y > image.height - height)
    throw Error(ErrorClass::invalid_input,
                "crop " + std::to_string(width) + "x" + std::to_string(height) + " at (" +
                    std::to_string(x) + ", " + std::to_string(y) + ") does not fit in the " +
                    std::to_string(image.width) + "x" + std::to_string(image.height) + " image");
  Image out(width, height, image.channels);
  const std::size_t row_bytes = std::size_t(width) * image.channels;
  for (int row = 0; row < height; ++row) std::memcpy(out.row(row), image.at(x, y + row), row_bytes);
  return out;
}

Image to_rgb_channels(Image image) {
  if (image.channels >= 3) return image;
  return codec::gray_to_color(image);
}

}  // namespace imagepipe
