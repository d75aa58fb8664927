// libFuzzer target for the image decoders (core/src/image/*_codec.cpp) through the entry
// points the daemon and the engine use: probe_image, verify_image and decode_image, with a
// pixel limit so a header that declares a huge image is refused rather than allocated.
// PNG, JPEG (and its EXIF orientation, through libexif), WebP, GIF (giflib) and TIFF wrap
// libraries whose error paths (longjmp, callbacks, dlopen) are ours; BMP and the long tail
// (EXR, HDR, PSD, DPX, JPEG 2000, TGA, PNM, ICO) go through the OpenImageIO module, whose
// source is linked into this target. A result must match what was probed.
#include <cstdint>
#include <string_view>

#include "imagepipe/error.hpp"
#include "imagepipe/image.hpp"

using namespace imagepipe;

// The formats OpenImageIO reads are their own target (image_oiio_fuzz.cpp), which holds
// them to the decoder's memory limit the way the helper process does in production.
bool long_tail(ImageFormat format) {
  switch (format) {
    case ImageFormat::png:
    case ImageFormat::jpeg:
    case ImageFormat::webp:
    case ImageFormat::gif:
    case ImageFormat::tiff:
    case ImageFormat::unknown:
      return false;
    default:
      return true;
  }
}

#ifndef IMAGEPIPE_FUZZ_INPUT_STARTS
#define IMAGEPIPE_FUZZ_INPUT_STARTS (void)0
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  IMAGEPIPE_FUZZ_INPUT_STARTS;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
#ifdef IMAGEPIPE_FUZZ_LONG_TAIL
  if (!long_tail(sniff_format(bytes))) return 0;
#else
  if (long_tail(sniff_format(bytes))) return 0;
#endif
  const DecodeLimits limits{.max_pixels = 1u << 20, .max_bytes = 1u << 20};
  ImageInfo info;
  try {
    info = probe_image(bytes, limits);
  } catch (const Error&) {
    return 0;
  }
  if (info.width <= 0 || info.height <= 0 ||
      std::uint64_t(info.width) * std::uint64_t(info.height) > limits.max_pixels)
    __builtin_trap();
  bool verified = false;
  try {
    (void)verify_image(bytes, limits);
    verified = true;
  } catch (const Error&) {
  }
  try {
    const Image image = decode_image(bytes, limits);
    if (image.width != info.width || image.height != info.height || image.channels < 1 ||
        image.channels > 4 ||
        image.pixels.size() != std::size_t(image.width) * image.height * image.channels)
      __builtin_trap();
  } catch (const Error&) {
    // What verify passed, decode must take: the daemon verifies at accept and a worker
    // decodes later.
    if (verified) __builtin_trap();
  }
  return 0;
}
