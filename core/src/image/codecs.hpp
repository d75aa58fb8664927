// Per-format codecs behind image.hpp. Each probe reads only the header; each decode
// produces 8-bit interleaved pixels with the channel count its probe reported.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "imagepipe/error.hpp"
#include "imagepipe/image.hpp"

namespace imagepipe::codec {

// "truncated or corrupt PNG: <detail>": the one wording for damaged files of any format.
[[noreturn]] inline void fail_corrupt(ImageFormat format, std::string_view detail) {
  std::string upper(to_string(format));
  for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  throw Error(ErrorClass::invalid_input,
              "truncated or corrupt " + upper + ": " + std::string(detail));
}

ImageInfo probe_png(std::string_view bytes);
Image decode_png(std::string_view bytes);
// Inflates every row (one row's memory) and reads the chunks after them up to IEND.
void verify_png(std::string_view bytes);
std::string encode_png(const Image& image, int zlib_level);

ImageInfo probe_jpeg(std::string_view bytes);
// scale_denominator is 1, 2, 4 or 8.
Image decode_jpeg(std::string_view bytes, int scale_denominator);
// The largest denominator (1, 2, 4, 8) that keeps the decoded size >= min_width x min_height.
int jpeg_scale_for(const ImageInfo& info, int min_width, int min_height);
std::string encode_jpeg(const Image& image, int quality);

ImageInfo probe_webp(std::string_view bytes);
Image decode_webp(std::string_view bytes);
std::string encode_webp(const Image& image, int quality, bool lossless);

// The first frame only.
ImageInfo probe_gif(std::string_view bytes);
Image decode_gif(std::string_view bytes);

// Through libtiff, loaded on first use. False from tiff_is_rgba when libtiff's RGBA
// interface cannot read the file (float samples, for one): the OpenImageIO module then
// does, as it does files with more than 8 bits per sample that are to keep them.
ImageInfo probe_tiff(std::string_view bytes);
Image decode_tiff(std::string_view bytes);
bool tiff_is_rgba(std::string_view bytes);

// Through the OpenImageIO module (oiio_codec.cpp), loaded on first use. The format is the
// one sniffed from the magic number; OpenImageIO never guesses one from the bytes.
bool oiio_reads(ImageFormat format);
// libimagepipe_oiio.so: $IMAGEPIPE_OIIO_MODULE, else beside libimagepipe itself.
std::string oiio_module_path();
ImageInfo probe_oiio(ImageFormat format, std::string_view bytes, const DecodeLimits& limits);
Image decode_oiio(ImageFormat format, std::string_view bytes, const DecodeLimits& limits);
std::string encode_oiio(const Image& image, const EncodeSpec& spec);
std::string transcode_oiio(ImageFormat from, std::string_view bytes, const EncodeSpec& spec,
                           const DecodeLimits& limits);

// EXIF orientation (1-8; 1 when there is none) of a JPEG, through libexif.
int jpeg_orientation(std::string_view bytes);
// The pixels turned upright for `orientation` (EXIF's 1-8: flips, turns, transposes).
Image apply_orientation(const Image& image, int orientation);

// Channel conversions for formats that lack some layouts.
Image without_alpha(const Image& image);  // 2 -> 1, 4 -> 3 channels, laid over white
Image gray_to_color(const Image& image);  // 1 -> 3, 2 -> 4 channels

}  // namespace imagepipe::codec
