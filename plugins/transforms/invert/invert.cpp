// Transform `invert`: the colour negative; alpha is kept.
#include "imagepipe/plugin.hpp"
#include "imagepipe/schema.hpp"

namespace imagepipe {
namespace {

class Invert final : public Transform {
 public:
  std::vector<Artifact> apply(Artifact in, const ItemContext&) override {
    Image& image = *in.pixels;
    // Gray+alpha and RGBA keep their last channel.
    const int colors =
        image.channels == 2 || image.channels == 4 ? image.channels - 1 : image.channels;
    std::uint8_t* px = image.pixels.data();
    const std::size_t pixels = std::size_t(image.width) * image.height;
    if (colors == image.channels) {
      for (std::size_t i = 0; i < pixels * std::size_t(colors); ++i)
        px[i] = std::uint8_t(255 - px[i]);
    } else {
      for (std::size_t i = 0; i < pixels; ++i, px += image.channels)
        for (int c = 0; c < colors; ++c) px[c] = std::uint8_t(255 - px[c]);
    }
    // The bytes no longer describe these pixels.
    in.encoded.reset();
    in.encoded_format = ImageFormat::unknown;
    return {std::move(in)};
  }
};

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "Inverts the colours (RGB or gray); alpha is kept.";
  d.description =
      "Each colour channel becomes 255 minus itself; transparency is unchanged. The local "
      "provider's invert operation does the same and adds a watermark.";
  d.options_schema = schema::options();  // nothing to set
  d.examples = {nlohmann::json::object()};
  d.factory = TransformFactory{[](const PluginArgs&) { return std::make_unique<Invert>(); }};
  return d;
}
