// Images in two forms: encoded bytes (what providers and storage move) and decoded
// pixels (what transforms work on). An Artifact carries either or both, so a run of
// transforms decodes once and the sink encodes once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace imagepipe {

class PixelReservation;  // pixel_budget.hpp

// 8 bits per channel, interleaved, row-major, no padding. channels is 1, 2, 3 or 4.
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<std::uint8_t> pixels;
  // Held while these pixels count against the process's budget for decoded pixels
  // (pixel_budget.hpp), and shared by copies; null when nothing counts them.
  std::shared_ptr<PixelReservation> reservation;

  Image() = default;
  Image(int w, int h, int c) : width(w), height(h), channels(c), pixels(std::size_t(w) * h * c) {}
  std::uint8_t* row(int y) { return pixels.data() + std::size_t(y) * width * channels; }
  const std::uint8_t* row(int y) const { return pixels.data() + std::size_t(y) * width * channels; }
  std::uint8_t* at(int x, int y) { return row(y) + std::size_t(x) * channels; }
  const std::uint8_t* at(int x, int y) const { return row(y) + std::size_t(x) * channels; }
};

// PNG, JPEG, WebP and GIF have codecs of their own here (the fast paths); TIFF is read by
// libtiff when it can, and the rest (and TIFF with float samples) by the OpenImageIO
// module, loaded on the first such image.
enum class ImageFormat {
  png,
  jpeg,
  webp,
  gif,
  bmp,
  tiff,
  exr,
  hdr,
  psd,
  dpx,
  jpeg2000,
  tga,
  pnm,
  ico,
  unknown
};
std::string_view to_string(ImageFormat f);
std::string_view mime_type(ImageFormat f);
std::string_view file_extension(ImageFormat f);  // "png", "jpg", ...
std::optional<ImageFormat> format_from_name(std::string_view name);  // "jpeg", "jpg", "image/png"
ImageFormat sniff_format(std::string_view bytes);                      // by magic number

struct EncodeSpec {
  ImageFormat format = ImageFormat::png;
  int quality = 90;      // jpeg/webp 1..100
  int compression = 2;   // png: 0 store, 1 fastest, 2-3 fast (default), 4-9 smaller and slower
  bool lossless = false; // webp
  // Bits per sample: 8, or 16 for png, tiff and dpx (written through OpenImageIO). exr
  // (half) and hdr (float) choose their own.
  int bit_depth = 8;
};

struct ImageInfo {
  ImageFormat format = ImageFormat::unknown;
  int width = 0;
  int height = 0;
  int channels = 0;
  int bits = 8;  // per stored sample: 8, 16, or 32 for floating point
};

// The limits on what is decoded, and how (named for the limits, which came first).
struct DecodeLimits {
  std::uint64_t max_pixels = 100'000'000;  // 100 megapixels: larger images are refused from their header
  std::uint64_t max_bytes = 200ull << 20;
  // Turn pixels upright per the EXIF orientation (a phone's portrait photo is stored
  // sideways with orientation 6); false keeps them as stored. Widths and heights that
  // probe_image reports follow the same choice.
  bool apply_orientation = true;
};

// OpenImageIO's readers (BMP, EXR, HDR, PSD, DPX, JPEG 2000, TGA, PNM, ICO, TIFF that
// libtiff's RGBA interface does not read) size buffers from lengths the file declares, so
// they run in a helper process, imagepipe-decode, with its memory capped: a file that
// asks for more fails as "not enough memory to decode it (limit N MB)", a reader that
// crashes or hangs fails that image alone. Process-wide.
struct DecoderLimits {
  // What a reader may allocate for one image, beyond the file itself: 1 GiB holds a 64 MP
  // float EXR read as RGBA floats and its 8-bit copy. Default: $IMAGEPIPE_DECODER_MEMORY_BYTES.
  std::uint64_t memory_bytes = 1ull << 30;
  std::chrono::milliseconds timeout{60'000};  // per image; the helper is killed past it
};
void set_decoder_limits(const DecoderLimits& limits);
DecoderLimits decoder_limits();

// Reads only the header. Throws Error(invalid_input) naming the problem when the bytes
// are not an image, or declare more pixels than `limits` allow.
ImageInfo probe_image(std::string_view bytes, const DecodeLimits& limits = {});

// Full decode. min_width/min_height, when set, let JPEG decode at 1/2, 1/4 or 1/8 scale
// as long as the result stays at least that large (the fast path for thumbnails).
Image decode_image(std::string_view bytes, const DecodeLimits& limits = {}, int min_width = 0,
                   int min_height = 0);

// Reads the whole image, as decode_image would, without keeping its pixels: data cut short
// or damaged past the header throws Error(invalid_input) ("truncated or corrupt JPEG:
// ..."), as do the header problems probe_image finds. For bytes about to be paid for
// (a provider call). JPEG is decoded at 1/8 scale, which still reads every entropy-coded
// byte, and PNG a row at a time into one row's memory, checking every CRC up to IEND.
ImageInfo verify_image(std::string_view bytes, const DecodeLimits& limits = {});

std::string encode_image(const Image& image, const EncodeSpec& spec);

// `bytes` re-encoded as `spec` asks. Where the source holds more than 8 bits per sample
// (16-bit or float TIFF, EXR, HDR...) and the output can keep them, they are kept: the
// pixels never pass through the 8-bit Image. Otherwise decode_image, then encode_image.
std::string transcode_image(std::string_view bytes, const EncodeSpec& spec,
                            const DecodeLimits& limits = {});

// Whether encode_image writes `format`, and at `bit_depth`.
bool can_encode(ImageFormat format, int bit_depth = 8);

// Pixel helpers shared by plugins.
// The rectangle at (x, y) of width x height; throws Error(invalid_input) unless it is
// non-empty and lies inside the image.
Image crop_image(const Image& image, int x, int y, int width, int height);
// Gray (1 channel) becomes RGB and gray+alpha (2) becomes RGBA; 3 and 4 are kept as is.
Image to_rgb_channels(Image image);

// An image moving through a job. `encoded` and `pixels` describe the same picture when
// both are set; a transform that changes pixels clears `encoded`.
struct Artifact {
  std::shared_ptr<const std::string> encoded;
  ImageFormat encoded_format = ImageFormat::unknown;
  std::optional<Image> pixels;
  // The format the sink should produce; set by the `encode` transform or a provider.
  std::optional<EncodeSpec> encoding;
  // Free-form facts gathered on the way (provider, revised_prompt, usage, tile index...).
  nlohmann::json metadata = nlohmann::json::object();

  static Artifact from_bytes(std::string bytes);
  static Artifact from_pixels(Image image);
};

}  // namespace imagepipe
