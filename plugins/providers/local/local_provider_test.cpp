#include <future>

#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include "imagepipe/error.hpp"
#include "imagepipe/registry.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

// Runs the provider the way the engine does: a coroutine on an io_context, the image work
// on a one-thread CPU pool.
ProviderResult run_local(const json& with, ProviderRequest request) {
  asio::io_context io;
  asio::thread_pool pool(1);
  CpuPool cpu(pool);
  Host host;
  host.cpu = &cpu;
  const auto& plugin = testing::builtin_plugin(PluginKind::provider, "local");
  const json options = testing::checked_options(plugin, with);
  auto provider = std::get<ProviderFactory>(plugin.factory)(PluginArgs{host, options});
  auto result = asio::co_spawn(io, provider->run(std::move(request)), asio::use_future);
  io.run();
  pool.join();
  return result.get();
}

ProviderRequest with_image(const Image& image, ImageFormat format = ImageFormat::png) {
  ProviderRequest request;
  request.prompt = "make it nicer";
  request.images.push_back(Artifact::from_bytes(testing::encode(image, format)));
  return request;
}

std::string error_of(const json& with, ProviderRequest request) {
  try {
    run_local(with, std::move(request));
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected an error";
  return {};
}

TEST(LocalProvider, InvertFlipsRgbAndStampsARedWatermarkAsPng) {
  const ProviderResult result = run_local({}, with_image(testing::solid(400, 300, {10, 20, 30})));
  ASSERT_EQ(result.images.size(), 1u);
  const Artifact& out = result.images[0];
  ASSERT_TRUE(out.pixels);
  ASSERT_TRUE(out.encoding);
  EXPECT_EQ(out.encoding->format, ImageFormat::png);
  EXPECT_EQ(out.encoding->compression, 2);
  EXPECT_EQ(out.metadata.at("operation"), "invert");
  const Image& image = *out.pixels;
  ASSERT_EQ(image.channels, 3);
  EXPECT_EQ(testing::pixel(image, 0, 0), (std::vector<std::uint8_t>{245, 235, 225}));
  // Half-opaque red over (245, 235, 225): full-coverage pixels are about (250, 118, 113).
  int painted = 0, least_green = 255;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      const std::uint8_t* p = image.at(x, y);
      if (p[1] == 235) continue;
      ++painted;
      EXPECT_GE(p[0], 245);
      least_green = std::min<int>(least_green, p[1]);
    }
  EXPECT_GT(painted, 500);
  EXPECT_NEAR(least_green, 118, 1);
}

TEST(LocalProvider, InvertKeepsAlphaAndExpandsGray) {
  json no_mark = {{"watermark", ""}};
  const Image rgba =
      *run_local(no_mark, with_image(testing::solid(8, 8, {0, 100, 255, 77}))).images[0].pixels;
  EXPECT_EQ(testing::pixel(rgba, 3, 3), (std::vector<std::uint8_t>{255, 155, 0, 77}));
  const Image gray = *run_local(no_mark, with_image(testing::solid(8, 8, {40}))).images[0].pixels;
  EXPECT_EQ(testing::pixel(gray, 3, 3), (std::vector<std::uint8_t>{215, 215, 215}));
}

TEST(LocalProvider, InvertDecodesJpegInput) {
  const Image out =
      *run_local({{"watermark", ""}},
                 with_image(testing::solid(64, 48, {200, 200, 200}), ImageFormat::jpeg))
           .images[0]
           .pixels;
  EXPECT_EQ(out.width, 64);
  EXPECT_NEAR(out.at(10, 10)[0], 55, 2);
}

TEST(LocalProvider, InvertWithoutAnImageIsInvalidInput) {
  ProviderRequest request;
  request.prompt = "a cat";
  EXPECT_EQ(error_of({}, request), "local: invert needs an input image");
  ProviderRequest broken;
  broken.images.push_back(Artifact::from_bytes("not an image at all"));
  EXPECT_EQ(error_of({}, broken), "not an image (unrecognised data, 19 bytes)");
}

TEST(LocalProvider, PlaceholderWritesThePromptOnACanvas) {
  ProviderRequest request;
  request.prompt = "A lighthouse at dusk, oil painting";
  const json with = {{"operation", "placeholder"},
                     {"width", 320},
                     {"height", 200},
                     {"background", "#102030"},
                     {"text_color", "white"}};
  const Image image = *run_local(with, request).images[0].pixels;
  ASSERT_EQ(image.width, 320);
  ASSERT_EQ(image.height, 200);
  EXPECT_EQ(testing::pixel(image, 2, 2), (std::vector<std::uint8_t>{16, 32, 48}));
  int white = 0;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      white += image.at(x, y)[0] == 255 && image.at(x, y)[2] == 255;
  EXPECT_GT(white, 300);
}

TEST(LocalProvider, PlaceholderSizeComesFromTheRequest) {
  ProviderRequest request;
  request.prompt = "x";
  request.params = {{"size", "640x360"}};
  const Image a = *run_local({{"operation", "placeholder"}}, request).images[0].pixels;
  EXPECT_EQ(std::make_pair(a.width, a.height), std::make_pair(640, 360));
  request.params = {{"width", 100}, {"height", 50}};
  const Image b = *run_local({{"operation", "placeholder"}}, request).images[0].pixels;
  EXPECT_EQ(std::make_pair(b.width, b.height), std::make_pair(100, 50));
  request.params = {{"size", "640by360"}};
  EXPECT_EQ(error_of({{"operation", "placeholder"}}, request),
            "local: size '640by360' is not WIDTHxHEIGHT");
  request.params = {{"size", "99999x10"}};
  EXPECT_EQ(error_of({{"operation", "placeholder"}}, request),
            "local: width must be 1..8192, got 99999");
}

TEST(LocalProvider, PassthroughReturnsTheInputBytes) {
  ProviderRequest request = with_image(testing::gradient(10, 10));
  const auto input = request.images[0].encoded;
  const ProviderResult result = run_local({{"operation", "passthrough"}}, request);
  ASSERT_TRUE(result.images[0].encoded);
  EXPECT_EQ(*result.images[0].encoded, *input);
}

TEST(LocalProvider, SchemaDefaultsAndRules) {
  const auto& plugin = testing::builtin_plugin(PluginKind::provider, "local");
  const json options = testing::checked_options(plugin, json::object());
  EXPECT_EQ(options.at("operation"), "invert");
  EXPECT_EQ(options.at("watermark"), "DEMO - FALLBACK");
  EXPECT_EQ(options.at("watermark_opacity"), 0.5);
  EXPECT_EQ(options.at("watermark_position"), "center");
  EXPECT_FALSE(check_options(plugin, {{"operation", "edit"}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"watermark_color", "rgb(1,2,3)"}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"watermark_opacity", 1.5}}).ok());
  for (const json& example : plugin.examples)
    EXPECT_TRUE(check_options(plugin, example).ok()) << example;
  EXPECT_EQ(plugin.capabilities.at("max_images_per_request"), 1);
}

TEST(LocalProvider, AnUnknownColourNameFailsAtStart) {
  const auto& plugin = testing::builtin_plugin(PluginKind::provider, "local");
  const json options = testing::checked_options(plugin, {{"watermark_color", "chartreuse"}});
  const Host host;
  try {
    std::get<ProviderFactory>(plugin.factory)(PluginArgs{host, options});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "local: watermark_color 'chartreuse' is not a colour (#rrggbb, #rgb or a name)");
  }
}

}  // namespace
}  // namespace imagepipe
