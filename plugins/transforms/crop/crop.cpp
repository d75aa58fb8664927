// Transform `crop`: a rectangle at x, y, or a width x height box placed by gravity.
#include <algorithm>

#include "imagepipe/error.hpp"
#include "imagepipe/plugin.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

constexpr const char* kX = "x";
constexpr const char* kY = "y";
constexpr const char* kWidth = "width";
constexpr const char* kHeight = "height";
constexpr const char* kGravity = "gravity";
constexpr int kMaxSide = 100000;

class Crop final : public Transform {
 public:
  explicit Crop(const json& options)
      : x_(options.value(kX, -1)),
        y_(options.value(kY, -1)),
        width_(options.at(kWidth).get<int>()),
        height_(options.at(kHeight).get<int>()),
        gravity_(options.at(kGravity).get<std::string>()) {}

  std::vector<Artifact> apply(Artifact in, const ItemContext&) override {
    const Image& image = *in.pixels;
    // A box larger than the image is cut to the image.
    const int w = std::min(width_, image.width), h = std::min(height_, image.height);
    int x = 0, y = 0;
    if (x_ >= 0) {
      if (x_ >= image.width || y_ >= image.height)
        throw Error(ErrorClass::invalid_input, "crop: (" + std::to_string(x_) + ", " +
                                                   std::to_string(y_) + ") lies outside the " +
                                                   std::to_string(image.width) + "x" +
                                                   std::to_string(image.height) + " image");
      x = x_, y = y_;
    } else {
      x = gravity_x(image.width - w);
      y = gravity_y(image.height - h);
    }
    Artifact out = Artifact::from_pixels(
        crop_image(image, x, y, std::min(w, image.width - x), std::min(h, image.height - y)));
    out.encoding = in.encoding;
    out.metadata = std::move(in.metadata);
    return {std::move(out)};
  }

 private:
  int gravity_x(int spare) const {
    if (gravity_.ends_with("left") || gravity_ == "left") return 0;
    if (gravity_.ends_with("right") || gravity_ == "right") return spare;
    return spare / 2;
  }
  int gravity_y(int spare) const {
    if (gravity_.starts_with("top")) return 0;
    if (gravity_.starts_with("bottom")) return spare;
    return spare / 2;
  }

  int x_, y_, width_, height_;
  std::string gravity_;
};

json integer_option(const char* description, int minimum, json examples) {
  return {{"type", "integer"},
          {"minimum", minimum},
          {"maximum", kMaxSide},
          {"description", description},
          {"examples", std::move(examples)}};
}

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "Cuts a rectangle out of the image, at x, y or placed by gravity.";
  d.description =
      "With x and y, the rectangle starts there; without them, a width x height box is "
      "placed by gravity (centre by default). A box larger than the image is cut to the "
      "image; x, y outside the image is an error for that item.";
  d.options_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"required", {kWidth, kHeight}},
      {"properties",
       {{kX, integer_option("Left edge of the rectangle, in pixels (with y).", 0, {0, 100})},
        {kY, integer_option("Top edge of the rectangle, in pixels (with x).", 0, {0, 50})},
        {kWidth, integer_option("Width of the rectangle, in pixels.", 1, {512})},
        {kHeight, integer_option("Height of the rectangle, in pixels.", 1, {512})},
        {kGravity,
         {{"type", "string"},
          {"enum",
           {"center", "top", "bottom", "left", "right", "top-left", "top-right", "bottom-left",
            "bottom-right"}},
          {"default", "center"},
          {"description", "Where the box goes when x and y are not given."},
          {"examples", {"center", "top-left"}}}}}},
      // x and y come together.
      {"dependencies", {{kX, {kY}}, {kY, {kX}}}}};
  d.examples = {{{kX, 10}, {kY, 20}, {kWidth, 300}, {kHeight, 200}},
                {{kWidth, 512}, {kHeight, 512}, {kGravity, "top"}}};
  d.factory =
      TransformFactory{[](const PluginArgs& args) { return std::make_unique<Crop>(args.options); }};
  return d;
}
