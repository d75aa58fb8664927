#include <gtest/gtest.h>

#include "imagepipe/error.hpp"
#include "imagepipe/registry.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

TEST(GridSplit, TwoByTwoGivesFourTilesInRowMajorOrder) {
  const Image grid = testing::grid_2x2(100, 10);  // 230 x 230
  const auto tiles = testing::apply_transform("grid-split", {{"rows", 2}, {"cols", 2}}, grid);
  ASSERT_EQ(tiles.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    const Artifact& tile = tiles[std::size_t(i)];
    EXPECT_EQ(tile.metadata.at("tile"), i);
    EXPECT_EQ(tile.metadata.at("row"), i / 2);
    EXPECT_EQ(tile.metadata.at("col"), i % 2);
    EXPECT_EQ(tile.pixels->width, 115);
    EXPECT_EQ(tile.pixels->height, 115);
    // The middle of each cell holds that cell's colour.
    const auto& c = testing::kGridColors[std::size_t(i)];
    EXPECT_EQ(testing::pixel(*tile.pixels, 60, 60), (std::vector<std::uint8_t>{c[0], c[1], c[2]}))
        << i;
  }
}

TEST(GridSplit, UnevenSizesCoverTheImage) {
  const auto tiles = testing::apply_transform("grid-split", {{"rows", 1}, {"cols", 3}},
                                              testing::gradient(100, 10));
  ASSERT_EQ(tiles.size(), 3u);
  EXPECT_EQ(tiles[0].pixels->width, 33);
  EXPECT_EQ(tiles[1].pixels->width, 33);
  EXPECT_EQ(tiles[2].pixels->width, 34);
  EXPECT_EQ(tiles[2].pixels->at(0, 0)[0], testing::gradient(100, 10).at(66, 0)[0]);
}

TEST(GridSplit, KeepsTheInputsMetadataAndEncoding) {
  auto transform = testing::make_transform("grid-split", {{"rows", 2}, {"cols", 1}});
  Artifact in = Artifact::from_pixels(testing::gradient(10, 10));
  in.metadata["provider"] = "openai";
  in.encoding = EncodeSpec{ImageFormat::jpeg, 80, 6, false};
  const auto tiles = transform->apply(std::move(in), ItemContext{});
  ASSERT_EQ(tiles.size(), 2u);
  EXPECT_EQ(tiles[1].metadata.at("provider"), "openai");
  EXPECT_EQ(tiles[1].encoding->format, ImageFormat::jpeg);
}

TEST(GridSplit, RefusesMoreCellsThanPixels) {
  EXPECT_THROW(
      testing::apply_transform("grid-split", {{"rows", 4}, {"cols", 4}}, testing::gradient(3, 3)),
      Error);
}

TEST(GridSplit, SchemaBoundsAndDefaults) {
  const auto& plugin = testing::builtin_plugin(PluginKind::transform, "grid-split");
  EXPECT_FALSE(check_options(plugin, {{"rows", 0}}).ok());
  EXPECT_FALSE(check_options(plugin, {{"cols", 17}}).ok());
  const json defaults = testing::checked_options(plugin, json::object());
  EXPECT_EQ(defaults.at("rows"), 2);
  EXPECT_EQ(defaults.at("cols"), 2);
  for (const json& example : plugin.examples)
    EXPECT_TRUE(check_options(plugin, example).ok()) << example;
}

}  // namespace
}  // namespace imagepipe
