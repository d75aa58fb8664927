// An out-of-tree provider built against the installed SDK. It stands in for an AI service
// the way a real provider is written: a coroutine that takes the item's images and
// per-request params, does its work off the event loop (the host's CPU pool, as a real one
// would await host.http->send), reports usage, and says what went wrong with an error class
// the engine can act on (invalid_input fails the item; a fallback chain moves on).
#include <algorithm>
#include <string>

#include "imagepipe/error.hpp"
#include "imagepipe/plugin.hpp"
#include "imagepipe/schema.hpp"

namespace {

namespace schema = imagepipe::schema;

constexpr const char* kColour = "colour";
constexpr const char* kAmount = "amount";
constexpr const char* kSize = "size";

struct Rgb {
  std::uint8_t r, g, b;
};

Rgb parse_colour(const std::string& hex) {
  // The schema's pattern already holds it to #rrggbb.
  const auto byte = [&](int at) {
    return static_cast<std::uint8_t>(std::stoi(hex.substr(at, 2), nullptr, 16));
  };
  return {byte(1), byte(3), byte(5)};
}

class Tint final : public imagepipe::Provider {
 public:
  Tint(const imagepipe::Host& host, const nlohmann::json& options)
      : host_(host),
        colour_(parse_colour(options.at(kColour).get<std::string>())),
        amount_(options.at(kAmount).get<double>()),
        size_(options.at(kSize).get<int>()) {}

  imagepipe::Task<imagepipe::ProviderResult> run(imagepipe::ProviderRequest request) override {
    // Per-request params win over the configured options (`params: {amount: ...}`).
    const double amount = request.params.value(kAmount, amount_);
    if (amount < 0 || amount > 1)
      throw imagepipe::Error(
          imagepipe::ErrorClass::invalid_input,
          "tint: params.amount must be within 0..1, got " + std::to_string(amount));
    imagepipe::ProviderResult result;
    // Pixel work on the CPU pool, never on the event loop.
    imagepipe::Image image = co_await host_.cpu->run([&] { return tinted(request, amount); });
    result.images.push_back(imagepipe::Artifact::from_pixels(std::move(image)));
    result.usage = {{"pixels", result.images[0].pixels->width * result.images[0].pixels->height}};
    result.metadata = {{"provider", "tint"}, {"prompt", request.prompt}};
    co_return result;
  }

 private:
  imagepipe::Image tinted(const imagepipe::ProviderRequest& request, double amount) const {
    imagepipe::Image image;
    if (request.images.empty()) {  // text-to-image: a plain square of the colour
      image = imagepipe::Image(size_, size_, 3);
      std::fill(image.pixels.begin(), image.pixels.end(), 255);
      amount = 1;
    } else {
      const imagepipe::Artifact& in = request.images.front();
      image = in.pixels ? *in.pixels : imagepipe::decode_image(*in.encoded, host_.decode_limits);
      image = imagepipe::to_rgb_channels(std::move(image));
    }
    const std::uint8_t target[] = {colour_.r, colour_.g, colour_.b};
    for (int y = 0; y < image.height; ++y)
      for (int x = 0; x < image.width; ++x) {
        auto* p = image.at(x, y);
        for (int c = 0; c < 3; ++c)
          p[c] = static_cast<std::uint8_t>(p[c] + (target[c] - p[c]) * amount);
      }
    return image;
  }

  const imagepipe::Host& host_;
  Rgb colour_;
  double amount_;
  int size_;
};

}  // namespace

IMAGEPIPE_PLUGIN_SELF() {
  imagepipe::PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "Tints the item's image towards a colour (an example provider).";
  d.description =
      "Blends every pixel towards `colour` by `amount`; with no input image it draws a square "
      "of the colour. An example of a provider written against the SDK.";
  d.options_schema =
      schema::options()
          .add(kColour, schema::string()
                            .pattern("^#[0-9a-fA-F]{6}$")
                            .fallback("#704214")
                            .describe("The colour, #rrggbb."))
          .add(kAmount,
               schema::number().range(0, 1).fallback(0.5).describe(
                   "0 keeps the image, 1 paints it the colour; params.amount overrides it."))
          .add(kSize, schema::integer().range(1, 4096).fallback(64).describe(
                          "Side of the square drawn when there is no input image."));
  d.capabilities = {{"operations", {"edit", "generate"}}};
  d.examples = {{{kColour, "#3366ff"}, {kAmount, 0.25}}};
  d.factory = imagepipe::ProviderFactory{[](const imagepipe::PluginArgs& args) {
    return std::make_unique<Tint>(args.host, args.options);
  }};
  return d;
}
