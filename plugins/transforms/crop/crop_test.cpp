#include <gtest/gtest.h>

#include "imagepipe/error.hpp"
#include "imagepipe/registry.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

Image cropped(const Image& source, const json& with) {
  return *testing::apply_transform("crop", with, source).at(0).pixels;
}

TEST(Crop, RectangleAtXY) {
  const Image out =
      cropped(testing::gradient(256, 256), {{"x", 10}, {"y", 20}, {"width", 30}, {"height", 40}});
  ASSERT_EQ(out.width, 30);
  ASSERT_EQ(out.height, 40);
  // gradient: red = x, green = y (for a 256-wide image).
  EXPECT_EQ(testing::pixel(out, 0, 0), (std::vector<std::uint8_t>{10, 20, 128}));
  EXPECT_EQ(testing::pixel(out, 29, 39), (std::vector<std::uint8_t>{39, 59, 128}));
}

TEST(Crop, GravityPlacesTheBox) {
  const Image source = testing::gradient(256, 256);
  EXPECT_EQ(testing::pixel(cropped(source, {{"width", 56}, {"height", 56}}), 0, 0),
            (std::vector<std::uint8_t>{100, 100, 128}));
  EXPECT_EQ(
      testing::pixel(cropped(source, {{"width", 56}, {"height", 56}, {"gravity", "bottom-right"}}),
                     0, 0),
      (std::vector<std::uint8_t>{200, 200, 128}));
  EXPECT_EQ(
      testing::pixel(cropped(source, {{"width", 56}, {"height", 56}, {"gravity", "top"}}), 0, 0),
      (std::vector<std::uint8_t>{100, 0, 128}));
  EXPECT_EQ(
      testing::pixel(cropped(source, {{"width", 56}, {"height", 56}, {"gravity", "left"}}), 0, 0),
      (std::vector<std::uint8_t>{0, 100, 128}));
}

TEST(Crop, BoxesLargerThanTheImageAreCut) {
  const Image out =
      cropped(testing::gradient(50, 40), {{"x", 30}, {"y", 0}, {"width", 100}, {"height", 100}});
  EXPECT_EQ(out.width, 20);
  EXPECT_EQ(out.height, 40);
  const Image centred = cropped(testing::gradient(50, 40), {{"width", 100}, {"height", 10}});
  EXPECT_EQ(centred.width, 50);
  EXPECT_EQ(centred.height, 10);
}

TEST(Crop, OriginOutsideTheImageIsInvalidInput) {
  try {
    cropped(testing::gradient(50, 40), {{"x", 60}, {"y", 0}, {"width", 10}, {"height", 10}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
    EXPECT_STREQ(e.what(), "crop: (60, 0) lies outside the 50x40 image");
  }
}

TEST(Crop, SchemaNeedsASizeAndBothCoordinates) {
  const auto& plugin = testing::builtin_plugin(PluginKind::transform, "crop");
  EXPECT_FALSE(check_options(plugin, {{"width", 10}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"x", 1}, {"width", 10}, {"height", 10}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"width", 10}, {"height", 10}, {"gravity", "middle"}}).ok());
  EXPECT_TRUE(check_options(plugin, {{"x", 1}, {"y", 2}, {"width", 10}, {"height", 10}}).ok());
  for (const json& example : plugin.examples)
    EXPECT_TRUE(check_options(plugin, example).ok()) << example;
}

}  // namespace
}  // namespace imagepipe
