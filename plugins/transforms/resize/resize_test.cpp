#include <gtest/gtest.h>

#include "imagepipe/registry.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;
using testing::apply_transform;

Image resized(const Image& source, const json& with) {
  auto out = apply_transform("resize", with, source);
  EXPECT_EQ(out.size(), 1u);
  return *out.at(0).pixels;
}

std::pair<int, int> size_of(const Image& image) { return {image.width, image.height}; }

TEST(Resize, FitKeepsTheAspectRatioInsideTheBox) {
  const Image source = testing::gradient(400, 300);
  EXPECT_EQ(size_of(resized(source, {{"width", 200}, {"height", 200}})), std::make_pair(200, 150));
  EXPECT_EQ(size_of(resized(source, {{"width", 100}})), std::make_pair(100, 75));
  EXPECT_EQ(size_of(resized(source, {{"height", 30}})), std::make_pair(40, 30));
}

TEST(Resize, FillCoversTheBoxAndCropsTheCentre) {
  // Left half red, right half blue, and a green centre column band.
  Image source = testing::solid(400, 200, {255, 0, 0});
  for (int y = 0; y < 200; ++y)
    for (int x = 200; x < 400; ++x) source.at(x, y)[0] = 0, source.at(x, y)[2] = 255;
  const Image out = resized(source, {{"mode", "fill"}, {"width", 100}, {"height", 100}});
  EXPECT_EQ(size_of(out), std::make_pair(100, 100));
  // The centred 200x200 crop keeps 100 px of each half: red on the left, blue on the right.
  EXPECT_EQ(testing::pixel(out, 5, 50), (std::vector<std::uint8_t>{255, 0, 0}));
  EXPECT_EQ(testing::pixel(out, 94, 50), (std::vector<std::uint8_t>{0, 0, 255}));
}

TEST(Resize, ExactStretches) {
  const Image out =
      resized(testing::gradient(300, 300), {{"mode", "exact"}, {"width", 120}, {"height", 40}});
  EXPECT_EQ(size_of(out), std::make_pair(120, 40));
}

TEST(Resize, NeverEnlargesUnlessAsked) {
  const Image small = testing::gradient(100, 50);
  const Image same = resized(small, {{"width", 200}, {"height", 200}});
  EXPECT_TRUE(testing::images_near(same, small, 0));
  EXPECT_EQ(size_of(resized(small, {{"width", 200}, {"height", 200}, {"upscale", true}})),
            std::make_pair(200, 100));
  EXPECT_EQ(size_of(resized(small, {{"mode", "exact"}, {"width", 300}, {"height", 20}})),
            std::make_pair(100, 20));
  // fill without enlarging: the crop with the box's aspect, at its own size.
  EXPECT_EQ(size_of(resized(small, {{"mode", "fill"}, {"width", 400}, {"height", 400}})),
            std::make_pair(50, 50));
}

TEST(Resize, EveryFilterKeepsAFlatColourExact) {
  const Image flat = testing::solid(97, 61, {10, 200, 30, 128});
  for (const char* filter : {"nearest", "bilinear", "lanczos3"}) {
    for (auto [w, h] : {std::pair{31, 20}, std::pair{13, 7}}) {
      const Image out =
          resized(flat, {{"mode", "exact"}, {"width", w}, {"height", h}, {"filter", filter}});
      EXPECT_TRUE(testing::images_near(out, testing::solid(w, h, {10, 200, 30, 128}), 0)) << filter;
    }
    const Image up = resized(flat, {{"width", 300}, {"upscale", true}, {"filter", filter}});
    EXPECT_TRUE(
        testing::images_near(up, testing::solid(up.width, up.height, {10, 200, 30, 128}), 0))
        << filter;
  }
}

TEST(Resize, HalvingAGradientAveragesNeighbours) {
  const Image source = testing::gradient(256, 16);  // red rises 1 per pixel
  for (const char* filter : {"bilinear", "lanczos3"}) {
    const Image out = resized(source, {{"width", 128}, {"filter", filter}});
    ASSERT_EQ(out.width, 128);
    // Output pixel x covers source pixels 2x and 2x+1: red ~ 2x + 0.5 away from the edges.
    for (int x = 4; x < 124; ++x)
      EXPECT_NEAR(out.at(x, 4)[0], 2 * x + 0.5, 1.5) << filter << " x=" << x;
  }
}

TEST(Resize, NearestKeepsExactColours) {
  const Image grid = testing::grid_2x2(40, 8);  // 104 x 104
  const Image out = resized(grid, {{"width", 52}, {"filter", "nearest"}});
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) {
      const auto p = testing::pixel(out, x, y);
      bool known = p == std::vector<std::uint8_t>{255, 255, 255};
      for (const auto& c : testing::kGridColors)
        known |= p == std::vector<std::uint8_t>(c.begin(), c.end());
      ASSERT_TRUE(known) << x << "," << y;
    }
}

TEST(Resize, GrayImagesKeepOneChannel) {
  const Image out = resized(testing::gradient(64, 64, 1), {{"width", 16}});
  EXPECT_EQ(out.channels, 1);
  EXPECT_EQ(size_of(out), std::make_pair(16, 16));
}

TEST(Resize, AsksForTheSmallestDecodeThatCoversTheOutput) {
  const ImageInfo photo{ImageFormat::jpeg, 4000, 3000, 3};
  auto hint = [&](const json& with) {
    return testing::make_transform("resize", with)->min_decode_size(photo);
  };
  EXPECT_EQ(hint({{"width", 1024}, {"height", 1024}}), std::make_pair(1024, 768));
  // fill 500x500 keeps the centred 3000x3000: the whole image must be at least 667 x 500.
  EXPECT_EQ(hint({{"mode", "fill"}, {"width", 500}, {"height", 500}}), std::make_pair(667, 500));
  EXPECT_EQ(hint({{"width", 8000}}), std::make_pair(4000, 3000));
}

TEST(Resize, SchemaRefusesIncompleteBoxes) {
  const auto& plugin = testing::builtin_plugin(PluginKind::transform, "resize");
  EXPECT_FALSE(check_options(plugin, json::object()).ok());
  EXPECT_FALSE(check_options(plugin, {{"mode", "fill"}, {"width", 10}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"width", 0}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"width", 10}, {"filter", "cubic"}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"width", 10}, {"widht", 10}}).ok());
  const auto ok = check_options(plugin, {{"width", 10}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.options.at("mode"), "fit");
  EXPECT_EQ(ok.options.at("filter"), "lanczos3");
  for (const json& example : plugin.examples)
    EXPECT_TRUE(check_options(plugin, example).ok()) << example;
}

}  // namespace
}  // namespace imagepipe
