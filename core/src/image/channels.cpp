// Channel layout conversions for encoders whose formats lack a layout (JPEG has no alpha,
// WebP has no gray).
#include "image/codecs.hpp"

namespace imagepipe::codec {

Image without_alpha(const Image& image) {
  const int colors = image.channels - 1;
  Image out(image.width, image.height, colors);
  const std::size_t pixels = std::size_t(image.width) * image.height;
  const std::uint8_t* in = image.pixels.data();
  std::uint8_t* dst = out.pixels.data();
  for (std::size_t i = 0; i < pixels; ++i, in += image.channels, dst += colors) {
    const unsigned alpha = in[colors];
    for (int c = 0; c < colors; ++c)
      dst[c] = static_cast<std::uint8_t>((in[c] * alpha + 255 * (255 - alpha) + 127) / 255);
  }
  return out;
}

Image gray_to_color(const Image& image) {
  const bool alpha = image.channels == 2;
  Image out(image.width, image.height, alpha ? 4 : 3);
  const std::size_t pixels = std::size_t(image.width) * image.height;
  const std::uint8_t* in = image.pixels.data();
  std::uint8_t* dst = out.pixels.data();
  for (std::size_t i = 0; i < pixels; ++i, in += image.channels, dst += out.channels) {
    dst[0] = dst[1] = dst[2] = in[0];
    if (alpha) dst[3] = in[1];
  }
  return out;
}

}  // namespace imagepipe::codec
