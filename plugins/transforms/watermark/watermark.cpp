// Transform `watermark`: text alpha-blended onto the image (FreeType, kerning, wrapping).
#include "imagepipe/error.hpp"
#include "imagepipe/plugin.hpp"
#include "imagepipe/text.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

constexpr const char* kText = "text";
constexpr const char* kFont = "font";
constexpr const char* kSize = "size";
constexpr const char* kColor = "color";
constexpr const char* kOpacity = "opacity";
constexpr const char* kPosition = "position";
constexpr const char* kMargin = "margin";

class Watermark final : public Transform {
 public:
  explicit Watermark(const json& options) : text_(options.at(kText).get<std::string>()) {
    style_.font_path = options.at(kFont).get<std::string>();
    style_.size_px = options.at(kSize).get<int>();
    const std::string color = options.at(kColor).get<std::string>();
    const auto rgb = parse_color(color);
    if (!rgb)
      throw Error(ErrorClass::invalid_input,
                  "watermark: color '" + color + "' is not a colour (#rrggbb, #rgb or a name)");
    style_.rgb = *rgb;
    style_.opacity = options.at(kOpacity).get<double>();
    style_.position = text_position_from_string(options.at(kPosition).get<std::string>())
                          .value_or(TextPosition::bottom_right);
    style_.margin_px = options.at(kMargin).get<int>();
  }

  std::vector<Artifact> apply(Artifact in, const ItemContext&) override {
    // Text is drawn in colour: gray images become RGB(A) first.
    Artifact out = Artifact::from_pixels(to_rgb_channels(std::move(*in.pixels)));
    draw_text(*out.pixels, text_, style_);
    out.encoding = in.encoding;
    out.metadata = std::move(in.metadata);
    return {std::move(out)};
  }

 private:
  std::string text_;
  TextStyle style_;
};

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "Stamps text onto the image, alpha-blended.";
  d.description =
      "UTF-8 text drawn with FreeType (kerning, word wrap at the image width less the "
      "margins, \\n for explicit lines). size 0 sizes the text to about 1/12 of the image "
      "height, smaller when needed to fit. Gray images are turned into RGB. Fonts are "
      "TrueType/OpenType files; the default is $IMAGEPIPE_FONT, else DejaVu Sans.";
  d.options_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"required", {kText}},
      {"properties",
       {{kText,
         {{"type", "string"},
          {"minLength", 1},
          {"description", "The text to stamp (UTF-8)."},
          {"examples", {"DEMO", "© Example Corp"}}}},
        {kFont,
         {{"type", "string"},
          {"default", ""},
          {"description", "Font file; empty for the default font."},
          {"examples", {"/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"}}}},
        {kSize,
         {{"type", "integer"},
          {"minimum", 0},
          {"maximum", 1000},
          {"default", 0},
          {"description",
           "Text height in pixels; 0 for automatic (about 1/12 of the image height)."},
          {"examples", {0, 32}}}},
        {kColor,
         {{"type", "string"},
          {"pattern", "^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[a-zA-Z]+)$"},
          {"default", "#ffffff"},
          {"description", "Text colour: #rrggbb, #rgb or a name (red, white, black...)."},
          {"examples", {"#ffffff", "red"}}}},
        {kOpacity,
         {{"type", "number"},
          {"minimum", 0},
          {"maximum", 1},
          {"default", 0.5},
          {"description", "0 (invisible) to 1 (opaque)."},
          {"examples", {0.5, 1}}}},
        {kPosition,
         {{"type", "string"},
          {"enum",
           {"center", "top", "bottom", "top-left", "top-right", "bottom-left", "bottom-right"}},
          {"default", "bottom-right"},
          {"description", "Where the text goes."},
          {"examples", {"bottom-right", "center"}}}},
        {kMargin,
         {{"type", "integer"},
          {"minimum", 0},
          {"maximum", 1000},
          {"default", 16},
          {"description",
           "Distance from the image edges, in pixels (at most a quarter of the "
           "smaller side is used)."},
          {"examples", {16, 32}}}}}}};
  d.examples = {{{kText, "DEMO - FALLBACK"}, {kColor, "red"}, {kPosition, "center"}},
                {{kText, "© Example"}, {kSize, 24}, {kOpacity, 0.8}}};
  d.factory = TransformFactory{
      [](const PluginArgs& args) { return std::make_unique<Watermark>(args.options); }};
  return d;
}
