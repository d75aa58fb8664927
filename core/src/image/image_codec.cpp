// probe_image and decode_image: limits first, then the codec chosen by magic number. PNG,
// JPEG, WebP and GIF have codecs linked in; TIFF goes to libtiff (loaded on the first one)
// when its RGBA interface reads the file; the rest to the OpenImageIO module.
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

// TIFFs libtiff's RGBA interface reads stay off the OpenImageIO module.
bool tiff_by_libtiff(std::string_view bytes) { return codec::tiff_is_rgba(bytes); }

ImageInfo probe_by_format(std::string_view bytes, const DecodeLimits& limits) {
  const ImageFormat format = sniff_format(bytes);
  switch (format) {
    case ImageFormat::png:
      return codec::probe_png(bytes);
    case ImageFormat::jpeg: {
      ImageInfo info = codec::probe_jpeg(bytes);
      if (limits.apply_orientation && codec::jpeg_orientation(bytes) >= 5)
        std::swap(info.width, info.height);
      return info;
    }
    case ImageFormat::webp:
      return codec::probe_webp(bytes);
    case ImageFormat::gif:
      return codec::probe_gif(bytes);
    case ImageFormat::tiff:
      if (tiff_by_libtiff(bytes)) return codec::probe_tiff(bytes);
      return codec::probe_oiio(format, bytes, limits);
    case ImageFormat::unknown:
      break;
    default:
      return codec::probe_oiio(format, bytes, limits);
  }
  throw Error(ErrorClass::invalid_input,
              "not an image (unrecognised data, " + std::to_string(bytes.size()) + " bytes)");
}

Image decode_jpeg(std::string_view bytes, const ImageInfo& info, const DecodeLimits& limits,
                  int min_width, int min_height) {
  const int orientation = limits.apply_orientation ? codec::jpeg_orientation(bytes) : 1;
  // The scale is chosen on the stored size: a turned image's width was its height.
  ImageInfo stored = info;
  if (orientation >= 5) std::swap(stored.width, stored.height);
  if (orientation >= 5) std::swap(min_width, min_height);
  Image image = codec::decode_jpeg(bytes, codec::jpeg_scale_for(stored, min_width, min_height));
  return codec::apply_orientation(image, orientation);
}

}  // namespace

ImageInfo probe_image(std::string_view bytes, const DecodeLimits& limits) {
  check_byte_limit(bytes, limits);
  ImageInfo info = probe_by_format(bytes, limits);
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
        return decode_jpeg(bytes, info, limits, min_width, min_height);
      case ImageFormat::webp:
        return codec::decode_webp(bytes);
      case ImageFormat::gif:
        return codec::decode_gif(bytes);
      case ImageFormat::tiff:
        if (tiff_by_libtiff(bytes)) return codec::decode_tiff(bytes);
        return codec::decode_oiio(info.format, bytes, limits);
      case ImageFormat::unknown:
        break;
      default:
        return codec::decode_oiio(info.format, bytes, limits);
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
      // The other formats have no cheaper complete read than a decode.
      decode_image(bytes, limits);
      return info;
  }
}

bool can_encode(ImageFormat format, int bit_depth) {
  switch (format) {
    case ImageFormat::png:
    case ImageFormat::tiff:
    case ImageFormat::dpx:
      return bit_depth == 8 || bit_depth == 16;
    // OpenImageIO 2.4 writes 16-bit PNM with 8-bit data in it, and JPEG 2000 not at all into
    // memory or below 32x32 pixels: those are read, not written (or only at 8 bits).
    case ImageFormat::pnm:
    case ImageFormat::jpeg:
    case ImageFormat::webp:
    case ImageFormat::bmp:
    case ImageFormat::tga:
    case ImageFormat::exr:
    case ImageFormat::hdr:
      return bit_depth == 8;
    default:
      return false;
  }
}

std::string encode_image(const Image& image, const EncodeSpec& spec) {
  if (image.width <= 0 || image.height <= 0 || image.channels < 1 || image.channels > 4 ||
      image.pixels.size() != std::size_t(image.width) * image.height * image.channels)
    throw Error(ErrorClass::internal, "cannot encode an image of " + std::to_string(image.width) +
                                          "x" + std::to_string(image.height) + "x" +
                                          std::to_string(image.channels) + " with " +
                                          std::to_string(image.pixels.size()) + " bytes");
  if (!can_encode(spec.format, spec.bit_depth))
    throw Error(ErrorClass::invalid_input,
                "cannot encode " + std::string(to_string(spec.format)) +
                    (spec.bit_depth == 8 ? "" : " at " + std::to_string(spec.bit_depth) + " bits") +
                    ": written are png, jpeg, webp, tiff, exr, hdr, bmp, tga, pnm and dpx, "
                    "16-bit as png, tiff and dpx");
  switch (spec.format) {
    case ImageFormat::png:
      if (spec.bit_depth == 8) return codec::encode_png(image, spec.compression);
      break;
    case ImageFormat::jpeg:
      return codec::encode_jpeg(image, spec.quality);
    case ImageFormat::webp:
      return codec::encode_webp(image, spec.quality, spec.lossless);
    default:
      break;
  }
  return codec::encode_oiio(image, spec);
}

std::string transcode_image(std::string_view bytes, const EncodeSpec& spec,
                            const DecodeLimits& limits) {
  const ImageInfo info = probe_image(bytes, limits);
  // More than 8 bits in and out, or linear data into a linear format: the module reads and
  // writes the samples without the 8-bit Image in between.
  const bool wide_out =
      spec.bit_depth > 8 || spec.format == ImageFormat::exr || spec.format == ImageFormat::hdr;
  if (info.bits > 8 && wide_out && codec::oiio_reads(info.format) &&
      can_encode(spec.format, spec.bit_depth))
    return codec::transcode_oiio(info.format, bytes, spec, limits);
  return encode_image(decode_image(bytes, limits), spec);
}

}  // namespace imagepipe
