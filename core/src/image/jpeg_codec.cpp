// JPEG through libjpeg-turbo's TurboJPEG API, which can decode at 1/2, 1/4 or 1/8 scale
// directly in the IDCT: the fast path for thumbnails of large photos.
#include <turbojpeg.h>

#include <algorithm>
#include <memory>
#include <string>

#include "image/codecs.hpp"

namespace imagepipe::codec {
namespace {

struct HandleCloser {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, HandleCloser>;

TjHandle open_decompressor() {
  TjHandle handle(tjInitDecompress());
  if (!handle) throw Error(ErrorClass::internal, "cannot start the JPEG decoder");
  return handle;
}

const auto* as_jpeg_bytes(std::string_view bytes) {
  return reinterpret_cast<const unsigned char*>(bytes.data());
}

struct Header {
  int width = 0;
  int height = 0;
  int subsampling = 0;
  int colorspace = 0;
};

Header read_header(void* handle, std::string_view bytes) {
  Header h;
  if (tjDecompressHeader3(handle, as_jpeg_bytes(bytes), static_cast<unsigned long>(bytes.size()),
                          &h.width, &h.height, &h.subsampling, &h.colorspace) != 0)
    fail_corrupt(ImageFormat::jpeg, tjGetErrorStr2(handle));
  return h;
}

bool is_cmyk(const Header& h) { return h.colorspace == TJCS_CMYK || h.colorspace == TJCS_YCCK; }

// libjpeg-turbo reports a truncated file as a warning and fills the missing rows with
// grey; a truncated upload must be refused, while the other warnings (stray bytes between
// markers, and the like) describe files every viewer shows fine.
bool is_truncation_warning(const char* message) {
  const std::string_view text(message);
  return text.find("Premature end") != std::string_view::npos ||
         text.find("premature end") != std::string_view::npos;
}

// Adobe writes CMYK inverted (255 = no ink), which libjpeg passes through unchanged.
Image cmyk_to_rgb(const std::vector<std::uint8_t>& cmyk, int width, int height) {
  Image rgb(width, height, 3);
  const std::size_t pixels = std::size_t(width) * height;
  for (std::size_t i = 0; i < pixels; ++i) {
    const unsigned k = cmyk[i * 4 + 3];
    for (int c = 0; c < 3; ++c)
      rgb.pixels[i * 3 + c] = static_cast<std::uint8_t>((cmyk[i * 4 + c] * k + 127) / 255);
  }
  return rgb;
}

}  // namespace

ImageInfo probe_jpeg(std::string_view bytes) {
  TjHandle handle = open_decompressor();
  const Header h = read_header(handle.get(), bytes);
  ImageInfo info;
  info.format = ImageFormat::jpeg;
  info.width = h.width;
  info.height = h.height;
  info.channels = h.colorspace == TJCS_GRAY ? 1 : 3;
  return info;
}

int jpeg_scale_for(const ImageInfo& info, int min_width, int min_height) {
  if (min_width <= 0 && min_height <= 0) return 1;
  for (int denominator : {8, 4, 2}) {
    const tjscalingfactor factor{1, denominator};
    if (TJSCALED(info.width, factor) >= min_width && TJSCALED(info.height, factor) >= min_height)
      return denominator;
  }
  return 1;
}

Image decode_jpeg(std::string_view bytes, int scale_denominator) {
  TjHandle handle = open_decompressor();
  const Header h = read_header(handle.get(), bytes);
  const tjscalingfactor factor{1, scale_denominator};
  const int width = TJSCALED(h.width, factor);
  const int height = TJSCALED(h.height, factor);

  const bool cmyk = is_cmyk(h);
  const bool gray = h.colorspace == TJCS_GRAY;
  const int pixel_format = cmyk ? TJPF_CMYK : gray ? TJPF_GRAY : TJPF_RGB;
  const int channels = cmyk ? 4 : gray ? 1 : 3;
  Image image(width, height, channels);
  if (tjDecompress2(handle.get(), as_jpeg_bytes(bytes), static_cast<unsigned long>(bytes.size()),
                    image.pixels.data(), width, 0, height, pixel_format, 0) != 0) {
    const char* message = tjGetErrorStr2(handle.get());
    if (tjGetErrorCode(handle.get()) != TJERR_WARNING || is_truncation_warning(message))
      fail_corrupt(ImageFormat::jpeg, message);
  }
  if (cmyk) return cmyk_to_rgb(image.pixels, width, height);
  return image;
}

std::string encode_jpeg(const Image& image, int quality) {
  TjHandle handle(tjInitCompress());
  if (!handle) throw Error(ErrorClass::internal, "cannot start the JPEG encoder");
  // JPEG has no alpha: anything with alpha is laid over white first; gray stays gray.
  Image flattened;
  if (image.channels == 2 || image.channels == 4) flattened = without_alpha(image);
  const Image& source = flattened.channels ? flattened : image;
  const bool gray = source.channels == 1;

  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  const int rc = tjCompress2(handle.get(), source.pixels.data(), source.width, 0, source.height,
                             gray ? TJPF_GRAY : TJPF_RGB, &buffer, &size,
                             gray ? TJSAMP_GRAY : TJSAMP_420, std::clamp(quality, 1, 100), 0);
  std::unique_ptr<unsigned char, decltype(&tjFree)> owned(buffer, &tjFree);
  if (rc != 0)
    throw Error(ErrorClass::internal,
                std::string("JPEG encoder failed: ") + tjGetErrorStr2(handle.get()));
  return std::string(reinterpret_cast<const char*>(buffer), size);
}

}  // namespace imagepipe::codec
