// Format names, MIME types and recognition by magic number.
#include <algorithm>
#include <cctype>
#include <string>

#include "imagepipe/image.hpp"

namespace imagepipe {

std::string_view to_string(ImageFormat f) {
  switch (f) {
    case ImageFormat::png:
      return "png";
    case ImageFormat::jpeg:
      return "jpeg";
    case ImageFormat::webp:
      return "webp";
    case ImageFormat::gif:
      return "gif";
    case ImageFormat::bmp:
      return "bmp";
    case ImageFormat::tiff:
      return "tiff";
    case ImageFormat::unknown:
      break;
  }
  return "unknown";
}

std::string_view mime_type(ImageFormat f) {
  switch (f) {
    case ImageFormat::png:
      return "image/png";
    case ImageFormat::jpeg:
      return "image/jpeg";
    case ImageFormat::webp:
      return "image/webp";
    case ImageFormat::gif:
      return "image/gif";
    case ImageFormat::bmp:
      return "image/bmp";
    case ImageFormat::tiff:
      return "image/tiff";
    case ImageFormat::unknown:
      break;
  }
  return "application/octet-stream";
}

std::string_view file_extension(ImageFormat f) {
  switch (f) {
    case ImageFormat::png:
      return "png";
    case ImageFormat::jpeg:
      return "jpg";
    case ImageFormat::webp:
      return "webp";
    case ImageFormat::gif:
      return "gif";
    case ImageFormat::bmp:
      return "bmp";
    case ImageFormat::tiff:
      return "tif";
    case ImageFormat::unknown:
      break;
  }
  return "bin";
}

std::optional<ImageFormat> format_from_name(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // Accept a MIME type ("image/png"), an extension with or without its dot, or a name.
  if (lower.starts_with("image/")) lower.erase(0, 6);
  if (lower.starts_with(".")) lower.erase(0, 1);
  if (lower == "png") return ImageFormat::png;
  if (lower == "jpeg" || lower == "jpg" || lower == "jpe" || lower == "pjpeg")
    return ImageFormat::jpeg;
  if (lower == "webp") return ImageFormat::webp;
  if (lower == "gif") return ImageFormat::gif;
  if (lower == "bmp" || lower == "x-ms-bmp") return ImageFormat::bmp;
  if (lower == "tiff" || lower == "tif") return ImageFormat::tiff;
  return std::nullopt;
}

ImageFormat sniff_format(std::string_view b) {
  if (b.starts_with("\x89PNG\r\n\x1a\n")) return ImageFormat::png;
  if (b.starts_with("\xff\xd8\xff")) return ImageFormat::jpeg;
  if (b.size() >= 12 && b.starts_with("RIFF") && b.substr(8, 4) == "WEBP") return ImageFormat::webp;
  if (b.starts_with("GIF87a") || b.starts_with("GIF89a")) return ImageFormat::gif;
  if (b.starts_with("BM") && b.size() >= 14) return ImageFormat::bmp;
  if (b.starts_with(std::string_view("II*\0", 4)) || b.starts_with(std::string_view("MM\0*", 4)))
    return ImageFormat::tiff;
  return ImageFormat::unknown;
}

}  // namespace imagepipe
