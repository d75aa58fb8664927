#include <gtest/gtest.h>

#include "imagepipe/error.hpp"
#include "imagepipe/registry.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

// The bounding box of pixels that differ from `background`: {x0, y0, x1, y1} inclusive.
std::array<int, 4> changed_box(const Image& image, const std::vector<std::uint8_t>& background) {
  std::array<int, 4> box{image.width, image.height, -1, -1};
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      if (testing::pixel(image, x, y) != background) {
        box[0] = std::min(box[0], x), box[1] = std::min(box[1], y);
        box[2] = std::max(box[2], x), box[3] = std::max(box[3], y);
      }
  return box;
}

TEST(Watermark, DefaultsToWhiteTextInTheBottomRightCorner) {
  const Image out = *testing::apply_transform("watermark", {{"text", "DEMO"}, {"size", 24}},
                                              testing::solid(400, 300, {0, 0, 0}))
                         .at(0)
                         .pixels;
  const auto box = changed_box(out, {0, 0, 0});
  ASSERT_GE(box[2], 0) << "nothing drawn";
  EXPECT_NEAR(box[2], 400 - 16, 3);
  // The line box ends at the margin; "DEMO" has no descender, so its ink stops a little above.
  EXPECT_LE(box[3], 300 - 16);
  EXPECT_GE(box[3], 300 - 16 - 10);
  EXPECT_GT(box[0], 200);
  EXPECT_GT(box[1], 200);
  // Half-transparent white on black: the brightest pixels are about 128 gray.
  int brightest = 0;
  for (std::uint8_t v : out.pixels) brightest = std::max<int>(brightest, v);
  EXPECT_NEAR(brightest, 128, 2);
}

TEST(Watermark, OpaqueRedInTheCentre) {
  const Image out = *testing::apply_transform("watermark",
                                              {{"text", "X"},
                                               {"size", 40},
                                               {"color", "red"},
                                               {"opacity", 1.0},
                                               {"position", "center"}},
                                              testing::solid(200, 200, {255, 255, 255}))
                         .at(0)
                         .pixels;
  const auto box = changed_box(out, {255, 255, 255});
  EXPECT_NEAR((box[0] + box[2]) / 2, 100, 3);
  EXPECT_NEAR((box[1] + box[3]) / 2, 100, 4);
  EXPECT_EQ(testing::pixel(out, 100, 100), (std::vector<std::uint8_t>{255, 0, 0}));
}

TEST(Watermark, GrayImagesBecomeRgb) {
  const Image out =
      *testing::apply_transform("watermark", {{"text", "hi"}}, testing::solid(100, 60, {90}))
           .at(0)
           .pixels;
  EXPECT_EQ(out.channels, 3);
  EXPECT_EQ(testing::pixel(out, 0, 0), (std::vector<std::uint8_t>{90, 90, 90}));
}

TEST(Watermark, SchemaNeedsTextAndAColour) {
  const auto& plugin = testing::builtin_plugin(PluginKind::transform, "watermark");
  EXPECT_FALSE(check_options(plugin, json::object()).ok());
  EXPECT_FALSE(check_options(plugin, {{"text", ""}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"text", "x"}, {"opacity", -0.1}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"text", "x"}, {"position", "left"}}).ok());
  for (const json& example : plugin.examples)
    EXPECT_TRUE(check_options(plugin, example).ok()) << example;
  EXPECT_THROW(testing::make_transform("watermark", {{"text", "x"}, {"color", "blurple"}}), Error);
}

}  // namespace
}  // namespace imagepipe
