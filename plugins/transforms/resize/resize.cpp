// Transform `resize`: fit inside a box, fill a box (cropping the overflow), or an exact
// size; lanczos3 by default. Declares the smallest decode it needs, so a JPEG input is
// decoded at 1/2, 1/4 or 1/8 scale when that still covers the output.
#include <algorithm>
#include <cmath>

#include "imagepipe/error.hpp"
#include "imagepipe/plugin.hpp"
#include "imagepipe/schema.hpp"
#include "resample.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

constexpr const char* kMode = "mode";
constexpr const char* kWidth = "width";
constexpr const char* kHeight = "height";
constexpr const char* kFilter = "filter";
constexpr const char* kUpscale = "upscale";
constexpr int kMaxSide = 30000;

enum class Mode { fit, fill, exact };

struct Plan {
  resample::Region region;  // the part of the source that is kept
  int width = 0, height = 0;
};

class Resize final : public Transform {
 public:
  explicit Resize(const json& options)
      : mode_(mode_from(options.at(kMode).get<std::string>())),
        width_(options.value(kWidth, 0)),
        height_(options.value(kHeight, 0)),
        filter_(filter_from(options.at(kFilter).get<std::string>())),
        upscale_(options.at(kUpscale).get<bool>()) {
    if (mode_ != Mode::fit && (width_ == 0 || height_ == 0))
      throw Error(
          ErrorClass::invalid_input,
          "resize: mode " + options.at(kMode).get<std::string>() + " needs both width and height");
    if (width_ == 0 && height_ == 0)
      throw Error(ErrorClass::invalid_input, "resize: give width, height or both");
  }

  std::vector<Artifact> apply(Artifact in, const ItemContext&) override {
    const Image& source = *in.pixels;
    const Plan plan = plan_for(source.width, source.height);
    if (plan.width == source.width && plan.height == source.height &&
        plan.region.width == source.width && plan.region.height == source.height)
      return {std::move(in)};
    Artifact out = Artifact::from_pixels(
        resample::resample(source, plan.region, plan.width, plan.height, filter_));
    out.encoding = in.encoding;
    out.metadata = std::move(in.metadata);
    return {std::move(out)};
  }

  std::pair<int, int> min_decode_size(const ImageInfo& input) const override {
    const Plan plan = plan_for(input.width, input.height);
    // Scale the output back up to the whole image's size (fill crops part of it).
    const double sx = double(input.width) / plan.region.width;
    const double sy = double(input.height) / plan.region.height;
    return {int(std::ceil(plan.width * sx)), int(std::ceil(plan.height * sy))};
  }

 private:
  Plan plan_for(int w, int h) const {
    Plan plan{{0, 0, w, h}, w, h};
    if (mode_ == Mode::fit) {
      double scale =
          std::min(width_ ? double(width_) / w : 1e9, height_ ? double(height_) / h : 1e9);
      if (!upscale_) scale = std::min(scale, 1.0);
      plan.width = std::clamp(int(std::lround(w * scale)), 1, kMaxSide);
      plan.height = std::clamp(int(std::lround(h * scale)), 1, kMaxSide);
    } else if (mode_ == Mode::fill) {
      // The centred crop with the box's aspect ratio, then scaled to the box.
      const double box_aspect = double(width_) / height_;
      plan.region.width = std::clamp(int(std::lround(h * box_aspect)), 1, w);
      plan.region.height = std::clamp(int(std::lround(w / box_aspect)), 1, h);
      plan.region.x = (w - plan.region.width) / 2;
      plan.region.y = (h - plan.region.height) / 2;
      const bool enlarges = width_ > plan.region.width;
      plan.width = enlarges && !upscale_ ? plan.region.width : width_;
      plan.height = enlarges && !upscale_ ? plan.region.height : height_;
    } else {
      plan.width = upscale_ ? width_ : std::min(width_, w);
      plan.height = upscale_ ? height_ : std::min(height_, h);
    }
    return plan;
  }

  static Mode mode_from(const std::string& s) {
    return s == "fill" ? Mode::fill : s == "exact" ? Mode::exact : Mode::fit;
  }
  static resample::Filter filter_from(const std::string& s) {
    return s == "nearest"    ? resample::Filter::nearest
           : s == "bilinear" ? resample::Filter::bilinear
                             : resample::Filter::lanczos3;
  }

  Mode mode_;
  int width_, height_;
  resample::Filter filter_;
  bool upscale_;
};

schema::Field side_schema(const char* what) {
  return schema::integer()
      .range(1, kMaxSide)
      .describe(std::string(what) + " of the box, in pixels.")
      .examples({256, 1024});
}

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "Resizes to fit a box, fill a box, or an exact size.";
  d.description =
      "fit keeps the aspect ratio inside width x height (either may be left out); fill "
      "covers the box and crops the centred overflow; exact stretches to the size. Images "
      "are never enlarged unless upscale is true. lanczos3 (the default) keeps downscaled "
      "photos sharp without aliasing; bilinear is softer and about twice as fast; nearest "
      "keeps hard pixel edges (pixel art, masks). As the first transform it lets JPEG "
      "inputs decode at 1/2, 1/4 or 1/8 scale when that still covers the output.";
  d.options_schema =
      schema::options()
          .add(kMode, schema::string()
                          .one_of({"fit", "fill", "exact"})
                          .fallback("fit")
                          .describe("fit: inside the box; fill: cover the box, crop the rest; "
                                    "exact: stretch to width x height.")
                          .examples({"fit", "fill"}))
          .add(kWidth, side_schema("Width"))
          .add(kHeight, side_schema("Height"))
          .add(kFilter, schema::string()
                            .one_of({"lanczos3", "bilinear", "nearest"})
                            .fallback("lanczos3")
                            .describe("Resampling filter.")
                            .examples({"lanczos3", "nearest"}))
          .add(kUpscale,
               schema::boolean()
                   .fallback(false)
                   .describe("Enlarge images smaller than the box (off: they keep their size).")
                   .examples({false, true}))
          // At least one side; fill and exact need both.
          .rule("anyOf", {{{"required", {kWidth}}}, {{"required", {kHeight}}}})
          .rule("if",
                {{"properties", {{kMode, {{"enum", {"fill", "exact"}}}}}}, {"required", {kMode}}})
          .rule("then", {{"required", {kWidth, kHeight}}});
  d.examples = {{{kMode, "fit"}, {kWidth, 1024}, {kHeight, 1024}},
                {{kMode, "fill"}, {kWidth, 256}, {kHeight, 256}, {kFilter, "bilinear"}},
                {{kWidth, 800}}};
  d.factory = TransformFactory{
      [](const PluginArgs& args) { return std::make_unique<Resize>(args.options); }};
  return d;
}
