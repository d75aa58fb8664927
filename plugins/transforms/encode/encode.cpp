// Transform `encode`: chooses the output format; the sink encodes once, at the end.
#include <algorithm>

#include "imagepipe/plugin.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "format";
constexpr const char* kQuality = "quality";
constexpr const char* kCompression = "compression";
constexpr const char* kLossless = "lossless";
constexpr const char* kBitDepth = "bit_depth";

// What encode_image writes (image.hpp's can_encode); 16-bit where the format holds it.
const json kFormats = {"png", "jpeg", "webp", "tiff", "exr", "hdr", "bmp", "tga", "pnm", "dpx"};
const json kSixteenBitFormats = {"png", "tiff", "dpx"};

class Encode final : public Transform {
 public:
  explicit Encode(const json& options) {
    spec_.format = *format_from_name(options.at(kFormat).get<std::string>());
    spec_.quality = options.at(kQuality).get<int>();
    spec_.compression = options.at(kCompression).get<int>();
    spec_.lossless = options.at(kLossless).get<bool>();
    spec_.bit_depth = options.at(kBitDepth).get<int>();
  }

  std::vector<Artifact> apply(Artifact in, const ItemContext&) override {
    in.encoding = spec_;
    return {std::move(in)};
  }
  bool needs_pixels() const override { return false; }

 private:
  EncodeSpec spec_;
};

// "When `option` is given, format is one of `formats`". Left out, format is png.
json only_for_formats(const char* option, const json& formats) {
  json then = {{"properties", {{kFormat, {{"enum", formats}}}}}};
  if (std::find(formats.begin(), formats.end(), "png") == formats.end())
    then["required"] = {kFormat};
  return {{"if", {{"required", {option}}}}, {"then", then}};
}

// bit_depth 16 only with a format that holds 16-bit samples.
json sixteen_bits_only_for(const json& formats) {
  return {{"if", {{"required", {kBitDepth}}, {"properties", {{kBitDepth, {{"const", 16}}}}}}},
          {"then", {{"properties", {{kFormat, {{"enum", formats}}}}}}}};
}

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary =
      "Sets the output format (png, jpeg, webp, tiff, exr, hdr, bmp, tga, pnm, dpx), "
      "its quality or compression, and 16-bit output.";
  d.description =
      "Needs no pixels: it only records the format, and the sink encodes once at the end "
      "(an untouched input already in that format is stored as it is). quality applies to "
      "jpeg and lossy webp, compression to png, lossless to webp. PNG compression: 0 "
      "stores, 1 is the fastest (Up filter, run-length deflate), 2-3 fast with little size "
      "cost on photos (Paeth filter, run-length deflate: about 3x faster than zlib level 6 "
      "and within a few percent of its size), 4-5 add per-row filter choice, 6-9 are the "
      "classic zlib levels (best for drawings and screenshots). JPEG uses 4:2:0 chroma. "
      "png, jpeg and webp have encoders of their own; the other formats, and 16-bit png, are "
      "written through OpenImageIO (loaded on first use). bit_depth 16 keeps the samples of a "
      "16-bit or float source (TIFF, EXR, HDR, 16-bit PNG...) when no transform changed its "
      "pixels (transforms work on 8 bits, so after one the 16 bits hold 8 bits of data). "
      "exr is written as half floats and hdr as RGBE, both linear (sRGB values are converted).";
  d.options_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"properties",
       {{kFormat,
         {{"type", "string"},
          {"enum", kFormats},
          {"default", "png"},
          {"description", "Output format."},
          {"examples", {"png", "jpeg"}}}},
        {kQuality,
         {{"type", "integer"},
          {"minimum", 1},
          {"maximum", 100},
          {"default", 90},
          {"description", "jpeg and lossy webp quality, 1-100."},
          {"examples", {85, 90}}}},
        {kCompression,
         {{"type", "integer"},
          {"minimum", 0},
          {"maximum", 9},
          {"default", 2},
          {"description",
           "png compression, 0-9 (see the description): 2 is fast with near-best "
           "size on photos, 9 the smallest for drawings."},
          {"examples", {2, 9}}}},
        {kLossless,
         {{"type", "boolean"},
          {"default", false},
          {"description", "webp only: lossless instead of lossy."},
          {"examples", {true}}}},
        {kBitDepth,
         {{"type", "integer"},
          {"enum", {8, 16}},
          {"default", 8},
          {"description", "Bits per sample: 16 for png, tiff and dpx."},
          {"examples", {16}}}}}},
      {"allOf",
       {only_for_formats(kQuality, {"jpeg", "webp"}), only_for_formats(kCompression, {"png"}),
        only_for_formats(kLossless, {"webp"}), sixteen_bits_only_for(kSixteenBitFormats)}}};
  d.examples = {{{kFormat, "jpeg"}, {kQuality, 85}},
                {{kFormat, "png"}, {kCompression, 9}},
                {{kFormat, "webp"}, {kLossless, true}},
                {{kFormat, "tiff"}, {kBitDepth, 16}}};
  d.factory = TransformFactory{
      [](const PluginArgs& args) { return std::make_unique<Encode>(args.options); }};
  return d;
}
