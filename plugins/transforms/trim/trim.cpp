// Transform `trim`: cuts away a uniform border (the white margins around generated tiles).
#include <cstdlib>

#include "imagepipe/error.hpp"
#include "imagepipe/plugin.hpp"
#include "imagepipe/text.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

constexpr const char* kColor = "color";
constexpr const char* kTolerance = "tolerance";

class Trim final : public Transform {
 public:
  explicit Trim(const json& options) : tolerance_(options.at(kTolerance).get<int>()) {
    if (auto it = options.find(kColor); it != options.end()) {
      color_ = parse_color(it->get<std::string>());
      if (!color_)
        throw Error(ErrorClass::invalid_input, "trim: color '" + it->get<std::string>() +
                                                   "' is not a colour (#rrggbb, #rgb or a name)");
    }
  }

  std::vector<Artifact> apply(Artifact in, const ItemContext&) override {
    const Image& image = *in.pixels;
    const Border border = border_of(image);
    auto is_border = [&](int x, int y) { return border.matches(image.at(x, y)); };
    int top = 0, bottom = image.height - 1, left = 0, right = image.width - 1;
    auto row_is_border = [&](int y) {
      for (int x = left; x <= right; ++x)
        if (!is_border(x, y)) return false;
      return true;
    };
    auto column_is_border = [&](int x) {
      for (int y = top; y <= bottom; ++y)
        if (!is_border(x, y)) return false;
      return true;
    };
    while (top <= bottom && row_is_border(top)) ++top;
    // All border: nothing to keep, so nothing is cut.
    if (top > bottom) return {std::move(in)};
    while (row_is_border(bottom)) --bottom;
    while (column_is_border(left)) ++left;
    while (column_is_border(right)) --right;
    if (left == 0 && top == 0 && right == image.width - 1 && bottom == image.height - 1)
      return {std::move(in)};
    Artifact out =
        Artifact::from_pixels(crop_image(image, left, top, right - left + 1, bottom - top + 1));
    out.encoding = in.encoding;
    out.metadata = std::move(in.metadata);
    out.metadata["trimmed"] = {left, top, image.width - 1 - right, image.height - 1 - bottom};
    return {std::move(out)};
  }

 private:
  struct Border {
    std::uint8_t value[4] = {0, 0, 0, 0};
    int channels = 0;  // channels compared (alpha is ignored when a colour was given)
    int stride = 0;
    int tolerance = 0;
    bool matches(const std::uint8_t* p) const {
      for (int c = 0; c < channels; ++c)
        if (std::abs(int(p[c]) - int(value[c])) > tolerance) return false;
      return true;
    }
  };

  Border border_of(const Image& image) const {
    Border border;
    border.tolerance = tolerance_;
    if (!color_) {
      // The top-left pixel, every channel.
      border.channels = image.channels;
      std::copy(image.at(0, 0), image.at(0, 0) + image.channels, border.value);
      return border;
    }
    const auto& rgb = *color_;
    if (image.channels >= 3) {
      border.channels = 3;
      std::copy(rgb.begin(), rgb.end(), border.value);
    } else {
      border.channels = 1;
      border.value[0] = std::uint8_t((299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2] + 500) / 1000);
    }
    return border;
  }

  int tolerance_;
  std::optional<std::array<std::uint8_t, 3>> color_;
};

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "Cuts away a uniform border around the image.";
  d.description =
      "The border colour is the top-left pixel's (all channels, so transparent borders "
      "trim too) unless color is given (then alpha is not compared). A pixel belongs to the "
      "border when no channel differs from it by more than tolerance; JPEG noise usually "
      "needs 10-30. An image that is all border is left unchanged. The output's metadata "
      "trimmed lists the pixels cut from the left, top, right and bottom.";
  d.options_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"properties",
       {{kColor,
         {{"type", "string"},
          {"pattern", "^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[a-zA-Z]+)$"},
          {"description", "Border colour (#rrggbb, #rgb or a name); default: the top-left pixel."},
          {"examples", {"white", "#ffffff"}}}},
        {kTolerance,
         {{"type", "integer"},
          {"minimum", 0},
          {"maximum", 255},
          {"default", 10},
          {"description",
           "How far (0-255, per channel) a pixel may differ from the border colour "
           "and still be border."},
          {"examples", {10, 30}}}}}}};
  d.examples = {{{kTolerance, 16}}, {{kColor, "white"}, {kTolerance, 24}}};
  d.factory =
      TransformFactory{[](const PluginArgs& args) { return std::make_unique<Trim>(args.options); }};
  return d;
}
