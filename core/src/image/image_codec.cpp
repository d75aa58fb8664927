// probe_image and decode_image: limits first, then the codec chosen by magic number.
#include <new>
#include <string>

#include "image/codecs.hpp"
#include "imagepipe/error.hpp"
#include "imagepipe/image.hpp"

namespace imagepipe {
namespace {

void check_byte_limit(std::string_view bytes, const DecodeLimits& limits) {
  if (bytes.empty()) throw Error(ErrorClass::invalid_input, "not an image (empty data)");
  if (bytes.size() > limits.max_bytes)
    throw Error(ErrorClass::invalid_input, "image data is " + std::to_string(bytes.size()) +
                                               " bytes, over the limit of " +
                                               std::to_string(limits.max_bytes) + " bytes");
}

void check_pixel_limit(const ImageInfo& info, const DecodeLimits& limits) {
  const std::uint64_t pixels = std::uint64_t(info.width) * std::uint64_t(info.height);
  if (pixels > limits.max_pixels)
    throw Error(ErrorClass::invalid_input,
                "image is " + std::to_string(info.width) + "x" + std::to_string(info.height) +
                    " = " + std::to_string(pixels) + " pixels, over the limit of " +
                    std::to_string(limits.max_pixels) + " pixels");
}

ImageInfo probe_by_format(std::string_view bytes) {
  const ImageFormat format = sniff_format(bytes);
  switch (format) {
    case ImageFormat::png:
      return codec::probe_png(bytes);
    case ImageFormat::jpeg:
      return codec::probe_jpeg(bytes);
    case ImageFormat::webp:
      return codec::probe_webp(bytes);
    case ImageFormat::gif:
      return codec::probe_gif(bytes);
    case ImageFormat::bmp:
      return codec::probe_bmp(bytes);
    case ImageFormat::tiff:
      return codec::probe_tiff(bytes);
    case ImageFormat::unknown:
      break;
  }
  throw Error(ErrorClass::invalid_input,
              "not an image (unrecognised data, " + std::to_string(bytes.size()) + " bytes)");
}

}  // namespace

ImageInfo probe_image(std::string_view bytes, const DecodeLimits& limits) {
  check_byte_limit(bytes, limits);
  ImageInfo info = probe_by_format(bytes);
  if (info.width <= 0 || info.height <= 0)
    codec::fail_corrupt(info.format, "width or height is zero");
  check_pixel_limit(info, limits);
  return info;
}

Image decode_image(std::string_view bytes, const DecodeLimits& limits, int min_width,
                   int min_height) {
  const ImageInfo info = probe_image(bytes, limits);
  try {
    switch (info.format) {
      case ImageFormat::png:
        return codec::decode_png(bytes);
      case ImageFormat::jpeg:
        return codec::decode_jpeg(bytes, codec::jpeg_scale_for(info, min_width, min_height));
      case ImageFormat::webp:
        return codec::decode_webp(bytes);
      case ImageFormat::gif:
        return codec::decode_gif(bytes);
      case ImageFormat::bmp:
        return codec::decode_bmp(bytes);
      case ImageFormat::tiff:
        return codec::decode_tiff(bytes);
      case ImageFormat::unknown:
        break;
    }
  } catch (const std::bad_alloc&) {
    throw Error(ErrorClass::invalid_input, "image is " + std::to_string(info.width) + "x" +
                                               std::to_string(info.height) +
                                               " pixels: not enough memory to decode it");
  }
  throw Error(ErrorClass::internal, "no decoder for " + std::string(to_string(info.format)));
}

ImageInfo verify_image(std::string_view bytes, const DecodeLimits& limits) {
  const ImageInfo info = probe_image(bytes, limits);
  switch (info.format) {
    case ImageFormat::png:
      codec::verify_png(bytes);
      return info;
    case ImageFormat::jpeg:
      codec::decode_jpeg(bytes, 8);
      return info;
    default:
      // WebP, GIF, BMP and TIFF have no cheaper complete read than a decode.
      decode_image(bytes, limits);
      return info;
  }
}

std::string encode_image(const Image& image, const EncodeSpec& spec) {
  if (image.width <= 0 || image.height <= 0 || image.channels < 1 || image.channels > 4 ||
      image.pixels.size() != std::size_t(image.width) * image.height * image.channels)
    throw Error(ErrorClass::internal, "cannot encode an image of " + std::to_string(image.width) +
                                          "x" + std::to_string(image.height) + "x" +
                                          std::to_string(image.channels) + " with " +
                                          std::to_string(image.pixels.size()) + " bytes");
  switch (spec.format) {
    case ImageFormat::png:
      return codec::encode_png(image, spec.compression);
    case ImageFormat::jpeg:
      return codec::encode_jpeg(image, spec.quality);
    case ImageFormat::webp:
      return codec::encode_webp(image, spec.quality, spec.lossless);
    default:
      break;
  }
  throw Error(ErrorClass::invalid_input, "cannot encode " + std::string(to_string(spec.format)) +
                                             ": only png, jpeg and webp are written");
}

}  // namespace imagepipe
