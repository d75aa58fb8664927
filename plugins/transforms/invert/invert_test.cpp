#include <gtest/gtest.h>

#include "imagepipe/registry.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

Image inverted(const Image& source) {
  return *testing::apply_transform("invert", nlohmann::json::object(), source).at(0).pixels;
}

TEST(Invert, ColourChannelsFlipAndAlphaStays) {
  EXPECT_EQ(testing::pixel(inverted(testing::solid(3, 3, {0, 100, 255})), 1, 1),
            (std::vector<std::uint8_t>{255, 155, 0}));
  EXPECT_EQ(testing::pixel(inverted(testing::solid(3, 3, {0, 100, 255, 60})), 1, 1),
            (std::vector<std::uint8_t>{255, 155, 0, 60}));
  EXPECT_EQ(testing::pixel(inverted(testing::solid(3, 3, {30})), 1, 1),
            (std::vector<std::uint8_t>{225}));
  EXPECT_EQ(testing::pixel(inverted(testing::solid(3, 3, {30, 200})), 1, 1),
            (std::vector<std::uint8_t>{225, 200}));
}

TEST(Invert, TwiceIsTheOriginal) {
  const Image photo = testing::photo_like(64, 48);
  EXPECT_TRUE(testing::images_near(inverted(inverted(photo)), photo, 0));
}

TEST(Invert, DropsBytesThatNoLongerMatch) {
  auto transform = testing::make_transform("invert", nlohmann::json::object());
  const Image image = testing::solid(4, 4, {1, 2, 3});
  Artifact in = Artifact::from_bytes(testing::encode(image, ImageFormat::png));
  in.pixels = image;
  const auto out = transform->apply(std::move(in), ItemContext{});
  EXPECT_FALSE(out.at(0).encoded);
}

TEST(Invert, TakesNoOptions) {
  const auto& plugin = testing::builtin_plugin(PluginKind::transform, "invert");
  EXPECT_TRUE(check_options(plugin, nlohmann::json::object()).ok());
  EXPECT_FALSE(check_options(plugin, {{"alpha", true}}).ok());
}

}  // namespace
}  // namespace imagepipe
