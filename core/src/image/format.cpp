// Format names, MIME types and recognition by magic number.
#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "imagepipe/image.hpp"

namespace imagepipe {

namespace {

struct FormatNames {
  ImageFormat format;
  std::string_view name;       // to_string
  std::string_view mime;       // mime_type
  std::string_view extension;  // file_extension
};

constexpr std::array<FormatNames, 14> kFormats = {{
    {ImageFormat::png, "png", "image/png", "png"},
    {ImageFormat::jpeg, "jpeg", "image/jpeg", "jpg"},
    {ImageFormat::webp, "webp", "image/webp", "webp"},
    {ImageFormat::gif, "gif", "image/gif", "gif"},
    {ImageFormat::bmp, "bmp", "image/bmp", "bmp"},
    {ImageFormat::tiff, "tiff", "image/tiff", "tif"},
    {ImageFormat::exr, "exr", "image/x-exr", "exr"},
    {ImageFormat::hdr, "hdr", "image/vnd.radiance", "hdr"},
    {ImageFormat::psd, "psd", "image/vnd.adobe.photoshop", "psd"},
    {ImageFormat::dpx, "dpx", "image/x-dpx", "dpx"},
    {ImageFormat::jpeg2000, "jpeg2000", "image/jp2", "jp2"},
    {ImageFormat::tga, "tga", "image/x-tga", "tga"},
    {ImageFormat::pnm, "pnm", "image/x-portable-anymap", "pnm"},
    {ImageFormat::ico, "ico", "image/vnd.microsoft.icon", "ico"},
}};

const FormatNames* names_of(ImageFormat f) {
  for (const auto& names : kFormats)
    if (names.format == f) return &names;
  return nullptr;
}

std::uint16_t le16(std::string_view b, std::size_t at) {
  return std::uint16_t(std::uint8_t(b[at]) | std::uint8_t(b[at + 1]) << 8);
}

// TGA has no magic number (only version 2 files end in "TRUEVISION-XFILE"): its 18-byte
// header must describe an image this reader could hold, so that random bytes are not
// taken for one.
bool looks_like_tga(std::string_view b) {
  if (b.size() < 18) return false;
  constexpr std::string_view kFooter("TRUEVISION-XFILE.\0", 18);
  if (b.size() >= 26 && b.substr(b.size() - 18) == kFooter) return true;
  const int colour_map = std::uint8_t(b[1]), type = std::uint8_t(b[2]), depth = std::uint8_t(b[16]);
  const bool known_type =
      type == 1 || type == 2 || type == 3 || type == 9 || type == 10 || type == 11;
  const bool mapped = type == 1 || type == 9;
  const bool known_depth = depth == 8 || depth == 15 || depth == 16 || depth == 24 || depth == 32;
  const int map_depth = std::uint8_t(b[7]);
  return known_type && (colour_map == (mapped ? 1 : 0)) && known_depth &&
         (!mapped || map_depth == 15 || map_depth == 16 || map_depth == 24 || map_depth == 32) &&
         le16(b, 12) > 0 && le16(b, 14) > 0 && (std::uint8_t(b[17]) & 0xC0) == 0;
}

bool looks_like_pnm(std::string_view b) {
  return b.size() >= 3 && b[0] == 'P' &&
         std::string_view("123456fF").find(b[1]) != std::string_view::npos &&
         std::isspace(static_cast<unsigned char>(b[2]));
}

}  // namespace

std::string_view to_string(ImageFormat f) {
  const auto* names = names_of(f);
  return names ? names->name : "unknown";
}

std::string_view mime_type(ImageFormat f) {
  const auto* names = names_of(f);
  return names ? names->mime : "application/octet-stream";
}

std::string_view file_extension(ImageFormat f) {
  const auto* names = names_of(f);
  return names ? names->extension : "bin";
}

std::optional<ImageFormat> format_from_name(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // Accept a MIME type ("image/png"), an extension with or without its dot, or a name.
  const bool mime = lower.starts_with("image/");
  if (lower.starts_with("image/")) lower.erase(0, 6);
  if (lower.starts_with(".")) lower.erase(0, 1);
  if (lower == "png") return ImageFormat::png;
  if (lower == "jpeg" || lower == "jpg" || lower == "jpe" || lower == "pjpeg")
    return ImageFormat::jpeg;
  if (lower == "webp") return ImageFormat::webp;
  if (lower == "gif") return ImageFormat::gif;
  if (lower == "bmp" || lower == "x-ms-bmp") return ImageFormat::bmp;
  if (lower == "tiff" || lower == "tif") return ImageFormat::tiff;
  if (lower == "exr" || lower == "x-exr") return ImageFormat::exr;
  if (lower == "hdr" || lower == "rgbe" || lower == "vnd.radiance") return ImageFormat::hdr;
  if (lower == "psd" || lower == "vnd.adobe.photoshop") return ImageFormat::psd;
  if (lower == "dpx" || lower == "x-dpx") return ImageFormat::dpx;
  if (lower == "jpeg2000" || lower == "jp2" || lower == "j2k" || lower == "jp2k")
    return ImageFormat::jpeg2000;
  if (lower == "tga" || lower == "targa" || lower == "x-tga") return ImageFormat::tga;
  if (lower == "pnm" || lower == "ppm" || lower == "pgm" || lower == "pbm" || lower == "pfm" ||
      lower == "x-portable-anymap" || lower == "x-portable-pixmap")
    return ImageFormat::pnm;
  if (lower == "ico" || lower == "vnd.microsoft.icon" || (mime && lower == "x-icon"))
    return ImageFormat::ico;
  return std::nullopt;
}

ImageFormat sniff_format(std::string_view b) {
  using namespace std::string_view_literals;
  if (b.starts_with("\x89PNG\r\n\x1a\n")) return ImageFormat::png;
  if (b.starts_with("\xff\xd8\xff")) return ImageFormat::jpeg;
  if (b.size() >= 12 && b.starts_with("RIFF") && b.substr(8, 4) == "WEBP") return ImageFormat::webp;
  if (b.starts_with("GIF87a") || b.starts_with("GIF89a")) return ImageFormat::gif;
  if (b.starts_with("BM") && b.size() >= 14) return ImageFormat::bmp;
  if (b.starts_with("II*\0"sv) || b.starts_with("MM\0*"sv) || b.starts_with("II+\0"sv) ||
      b.starts_with("MM\0+"sv))
    return ImageFormat::tiff;
  if (b.starts_with("\x76\x2f\x31\x01"sv)) return ImageFormat::exr;
  if (b.starts_with("#?RADIANCE") || b.starts_with("#?RGBE")) return ImageFormat::hdr;
  if (b.starts_with("8BPS")) return ImageFormat::psd;
  if (b.starts_with("SDPX") || b.starts_with("XPDS")) return ImageFormat::dpx;
  if (b.starts_with("\0\0\0\x0CjP  \r\n\x87\n"sv) || b.starts_with("\xff\x4f\xff\x51"sv))
    return ImageFormat::jpeg2000;
  if (b.size() >= 6 && b.starts_with("\0\0\1\0"sv) && le16(b, 4) > 0) return ImageFormat::ico;
  if (looks_like_pnm(b)) return ImageFormat::pnm;
  if (looks_like_tga(b)) return ImageFormat::tga;
  return ImageFormat::unknown;
}

}  // namespace imagepipe
