// Images in two forms: encoded bytes (what providers and storage move) and decoded
// pixels (what transforms work on). An Artifact carries either or both, so a run of
// transforms decodes once and the sink encodes once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace imagepipe {

// 8 bits per channel, interleaved, row-major, no padding. channels is 1, 2, 3 or 4.
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<std::uint8_t> pixels;

  Image() = default;
  Image(int w, int h, int c) : width(w), height(h), channels(c), pixels(std::size_t(w) * h * c) {}
  std::uint8_t* row(int y) { return pixels.data() + std::size_t(y) * width * channels; }
  const std::uint8_t* row(int y) const { return pixels.data() + std::size_t(y) * width * channels; }
  std::uint8_t* at(int x, int y) { return row(y) + std::size_t(x) * channels; }
  const std::uint8_t* at(int x, int y) const { return row(y) + std::size_t(x) * channels; }
};

enum class ImageFormat { png, jpeg, webp, gif, bmp, tiff, unknown };
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
};

struct ImageInfo {
  ImageFormat format = ImageFormat::unknown;
  int width = 0;
  int height = 0;
  int channels = 0;
};

struct DecodeLimits {
  std::uint64_t max_pixels = 100'000'000;  // 100 megapixels: larger images are refused from their header
  std::uint64_t max_bytes = 200ull << 20;
};

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
