// WebP through libwebp (still images; animations are refused with a clear message).
#include <webp/decode.h>
#include <webp/encode.h>

#include <algorithm>
#include <memory>
#include <string>

#include "image/codecs.hpp"

namespace imagepipe::codec {
namespace {

const char* describe(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OK:
      return "ok";
    case VP8_STATUS_OUT_OF_MEMORY:
      return "out of memory";
    case VP8_STATUS_INVALID_PARAM:
      return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR:
      return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE:
      return "unsupported feature";
    case VP8_STATUS_SUSPENDED:
      return "suspended";
    case VP8_STATUS_USER_ABORT:
      return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA:
      return "unexpected end of data";
  }
  return "unknown error";
}

const auto* as_webp_bytes(std::string_view bytes) {
  return reinterpret_cast<const std::uint8_t*>(bytes.data());
}

WebPBitstreamFeatures read_features(std::string_view bytes) {
  WebPBitstreamFeatures features;
  const VP8StatusCode status = WebPGetFeatures(as_webp_bytes(bytes), bytes.size(), &features);
  if (status != VP8_STATUS_OK) fail_corrupt(ImageFormat::webp, describe(status));
  if (features.has_animation)
    throw Error(ErrorClass::invalid_input, "animated WebP is not supported");
  return features;
}

}  // namespace

ImageInfo probe_webp(std::string_view bytes) {
  const WebPBitstreamFeatures features = read_features(bytes);
  ImageInfo info;
  info.format = ImageFormat::webp;
  info.width = features.width;
  info.height = features.height;
  info.channels = features.has_alpha ? 4 : 3;
  return info;
}

Image decode_webp(std::string_view bytes) {
  const WebPBitstreamFeatures features = read_features(bytes);
  Image image(features.width, features.height, features.has_alpha ? 4 : 3);
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config))
    throw Error(ErrorClass::internal, "libwebp version mismatch");
  config.output.colorspace = features.has_alpha ? MODE_RGBA : MODE_RGB;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = image.pixels.data();
  config.output.u.RGBA.stride = image.width * image.channels;
  config.output.u.RGBA.size = image.pixels.size();
  const VP8StatusCode status = WebPDecode(as_webp_bytes(bytes), bytes.size(), &config);
  WebPFreeDecBuffer(&config.output);
  if (status != VP8_STATUS_OK) fail_corrupt(ImageFormat::webp, describe(status));
  return image;
}

std::string encode_webp(const Image& image, int quality, bool lossless) {
  if (image.width > WEBP_MAX_DIMENSION || image.height > WEBP_MAX_DIMENSION)
    throw Error(ErrorClass::invalid_input, "WebP cannot hold " + std::to_string(image.width) + "x" +
                                               std::to_string(image.height) + " pixels (at most " +
                                               std::to_string(WEBP_MAX_DIMENSION) + " per side)");
  // WebP has no gray layout.
  Image expanded;
  if (image.channels <= 2) expanded = gray_to_color(image);
  const Image& source = expanded.channels ? expanded : image;
  const int stride = source.width * source.channels;
  const float q = static_cast<float>(std::clamp(quality, 1, 100));
  std::uint8_t* output = nullptr;
  std::size_t size = 0;
  if (source.channels == 4)
    size = lossless ? WebPEncodeLosslessRGBA(source.pixels.data(), source.width, source.height,
                                             stride, &output)
                    : WebPEncodeRGBA(source.pixels.data(), source.width, source.height, stride, q,
                                     &output);
  else
    size = lossless ? WebPEncodeLosslessRGB(source.pixels.data(), source.width, source.height,
                                            stride, &output)
                    : WebPEncodeRGB(source.pixels.data(), source.width, source.height, stride, q,
                                    &output);
  std::unique_ptr<std::uint8_t, decltype(&WebPFree)> owned(output, &WebPFree);
  if (size == 0) throw Error(ErrorClass::internal, "WebP encoder failed");
  return std::string(reinterpret_cast<const char*>(output), size);
}

}  // namespace imagepipe::codec
