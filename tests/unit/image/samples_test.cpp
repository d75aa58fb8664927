// The sample images shipped for the pipelines decode as documented, and the copies under
// pipelines/samples/ match tests/data/.
#include <gtest/gtest.h>

#include "imagepipe/image.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

std::string sample(const std::string& dir, const std::string& name) {
  return testing::read_file(std::string(IMAGEPIPE_SOURCE_DIR) + "/" + dir + "/" + name);
}

TEST(Samples, PhotoIsA1024x768Jpeg) {
  const std::string jpeg = sample("tests/data", "sample.jpg");
  EXPECT_LT(jpeg.size(), 150u * 1024);
  const Image image = decode_image(jpeg);
  EXPECT_EQ(image.width, 1024);
  EXPECT_EQ(image.height, 768);
  EXPECT_EQ(image.channels, 3);
  EXPECT_EQ(jpeg, sample("pipelines/samples", "sample.jpg"));
}

TEST(Samples, GridHasFourTilesOnWhite) {
  const std::string png = sample("tests/data", "grid-2x2.png");
  EXPECT_LT(png.size(), 50u * 1024);
  const Image grid = decode_image(png);
  ASSERT_EQ(grid.width, 520);
  ASSERT_EQ(grid.height, 520);
  EXPECT_EQ(testing::pixel(grid, 0, 0), (std::vector<std::uint8_t>{255, 255, 255}));
  EXPECT_EQ(testing::pixel(grid, 260, 260), (std::vector<std::uint8_t>{255, 255, 255}));
  // Tile corners (20 px margins, 230 px tiles): red, green, blue, yellow backgrounds.
  EXPECT_EQ(testing::pixel(grid, 25, 25), (std::vector<std::uint8_t>{220, 40, 40}));
  EXPECT_EQ(testing::pixel(grid, 275, 25), (std::vector<std::uint8_t>{40, 160, 60}));
  EXPECT_EQ(testing::pixel(grid, 25, 275), (std::vector<std::uint8_t>{40, 80, 220}));
  EXPECT_EQ(testing::pixel(grid, 275, 275), (std::vector<std::uint8_t>{240, 200, 30}));
  EXPECT_EQ(png, sample("pipelines/samples", "grid-2x2.png"));
}

}  // namespace
}  // namespace imagepipe
