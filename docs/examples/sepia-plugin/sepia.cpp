// An out-of-tree transform built against the installed SDK: warm brown tones.
#include <algorithm>

#include "imagepipe/plugin.hpp"
#include "imagepipe/schema.hpp"

namespace {

constexpr const char* kStrength = "strength";

class Sepia final : public imagepipe::Transform {
 public:
  explicit Sepia(double strength) : strength_(strength) {}

  std::vector<imagepipe::Artifact> apply(imagepipe::Artifact in,
                                         const imagepipe::ItemContext&) override {
    auto image = std::move(*in.pixels);
    if (image.channels >= 3) {
      for (int y = 0; y < image.height; ++y)
        for (int x = 0; x < image.width; ++x) {
          auto* p = image.at(x, y);
          const double r = p[0], g = p[1], b = p[2];
          const double sr = 0.393 * r + 0.769 * g + 0.189 * b;
          const double sg = 0.349 * r + 0.686 * g + 0.168 * b;
          const double sb = 0.272 * r + 0.534 * g + 0.131 * b;
          p[0] = static_cast<std::uint8_t>(std::min(255.0, r + (sr - r) * strength_));
          p[1] = static_cast<std::uint8_t>(std::min(255.0, g + (sg - g) * strength_));
          p[2] = static_cast<std::uint8_t>(std::min(255.0, b + (sb - b) * strength_));
        }
    }
    return {imagepipe::Artifact::from_pixels(std::move(image))};
  }

 private:
  double strength_;
};

}  // namespace

// Kind and name come from imagepipe_add_plugin(sepia KIND transform ...).
IMAGEPIPE_PLUGIN_SELF() {
  namespace schema = imagepipe::schema;
  imagepipe::PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "Warm brown tones.";
  d.description = "An example of an out-of-tree plugin built with find_package(imagepipe).";
  d.options_schema =
      schema::options().add(kStrength, schema::number().range(0, 1).fallback(1.0).describe(
                                           "0 leaves the image unchanged, 1 is full sepia."));
  d.examples = {{{kStrength, 0.8}}};
  d.factory = imagepipe::TransformFactory{[](const imagepipe::PluginArgs& args) {
    return std::make_unique<Sepia>(args.options.at(kStrength).get<double>());
  }};
  return d;
}
