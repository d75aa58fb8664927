#include <gtest/gtest.h>

#include "imagepipe/registry.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

// A 60x40 white image with a 20x10 red block at (15, 5).
Image block_on_white(std::vector<std::uint8_t> white = {255, 255, 255}) {
  Image image = testing::solid(60, 40, white);
  for (int y = 5; y < 15; ++y)
    for (int x = 15; x < 35; ++x)
      image.at(x, y)[0] = 255, image.at(x, y)[1] = 0, image.at(x, y)[2] = 0;
  return image;
}

Artifact trimmed(const Image& source, const json& with) {
  return testing::apply_transform("trim", with, source).at(0);
}

TEST(Trim, CutsTheBorderTakenFromTheCorner) {
  const Artifact out = trimmed(block_on_white(), json::object());
  EXPECT_TRUE(testing::images_near(*out.pixels, testing::solid(20, 10, {255, 0, 0}), 0));
  EXPECT_EQ(out.metadata.at("trimmed"), json({15, 5, 25, 25}));
}

TEST(Trim, ToleranceAbsorbsNoise) {
  Image noisy = block_on_white();
  noisy.at(0, 39)[1] = 240;  // a speck in the border
  // Without tolerance the speck is content: the box reaches down to it.
  const Image strict = *trimmed(noisy, {{"tolerance", 0}}).pixels;
  EXPECT_EQ(std::make_pair(strict.width, strict.height), std::make_pair(35, 35));
  EXPECT_EQ(trimmed(noisy, {{"tolerance", 20}}).pixels->width, 20);
}

TEST(Trim, GivenColourIgnoresTheCorner) {
  Image image = block_on_white();
  image.at(0, 0)[0] = 0;  // a dark corner pixel would otherwise be the border colour
  const Artifact out = trimmed(image, {{"color", "white"}});
  EXPECT_EQ(out.pixels->width, 35);  // from the dark corner to the block's right edge
  EXPECT_EQ(out.pixels->height, 15);
}

TEST(Trim, AllBorderIsLeftUnchanged) {
  const Image plain = testing::solid(30, 20, {255, 255, 255});
  const Artifact out = trimmed(plain, json::object());
  EXPECT_TRUE(testing::images_near(*out.pixels, plain, 0));
  EXPECT_FALSE(out.metadata.contains("trimmed"));
}

TEST(Trim, TransparentBordersTrimFromTheCorner) {
  Image image = testing::solid(20, 20, {0, 0, 0, 0});
  image.at(5, 6)[3] = 255;
  const Artifact out = trimmed(image, json::object());
  EXPECT_EQ(out.pixels->width, 1);
  EXPECT_EQ(out.pixels->height, 1);
}

TEST(Trim, GridTilesLoseTheirWhiteMargins) {
  const auto tiles = testing::apply_transform("grid-split", {{"rows", 2}, {"cols", 2}},
                                              testing::grid_2x2(100, 10));
  for (const Artifact& tile : tiles) {
    const Image out = *trimmed(*tile.pixels, {{"tolerance", 16}}).pixels;
    EXPECT_EQ(out.width, 100);
    EXPECT_EQ(out.height, 100);
  }
}

TEST(Trim, SchemaBounds) {
  const auto& plugin = testing::builtin_plugin(PluginKind::transform, "trim");
  EXPECT_FALSE(check_options(plugin, {{"tolerance", 256}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"color", "rgb(1,2,3)"}}).ok());
  for (const json& example : plugin.examples)
    EXPECT_TRUE(check_options(plugin, example).ok()) << example;
}

}  // namespace
}  // namespace imagepipe
