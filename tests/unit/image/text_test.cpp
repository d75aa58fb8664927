#include <thread>

#include <gtest/gtest.h>

#include "imagepipe/error.hpp"
#include "imagepipe/text.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

using Rgb = std::array<std::uint8_t, 3>;

TEST(ParseColor, HexAndNames) {
  EXPECT_EQ(parse_color("#ff8000"), (Rgb{255, 128, 0}));
  EXPECT_EQ(parse_color("#F80"), (Rgb{255, 136, 0}));
  EXPECT_EQ(parse_color(" Red "), (Rgb{255, 0, 0}));
  EXPECT_EQ(parse_color("white"), (Rgb{255, 255, 255}));
  EXPECT_EQ(parse_color("grey"), parse_color("gray"));
  EXPECT_EQ(parse_color("#12345"), std::nullopt);
  EXPECT_EQ(parse_color("#gg0000"), std::nullopt);
  EXPECT_EQ(parse_color("ff0000"), std::nullopt);
  EXPECT_EQ(parse_color("reddish"), std::nullopt);
}

TEST(TextPosition, AcceptsDashesUnderscoresAndCase) {
  EXPECT_EQ(text_position_from_string("center"), TextPosition::center);
  EXPECT_EQ(text_position_from_string("centre"), TextPosition::center);
  EXPECT_EQ(text_position_from_string("Top"), TextPosition::top);
  EXPECT_EQ(text_position_from_string("top-left"), TextPosition::top_left);
  EXPECT_EQ(text_position_from_string("top_left"), TextPosition::top_left);
  EXPECT_EQ(text_position_from_string("bottom right"), TextPosition::bottom_right);
  EXPECT_EQ(text_position_from_string("left"), std::nullopt);
}

TEST(DefaultFont, EnvironmentOverridesDejaVu) {
  unsetenv("IMAGEPIPE_FONT");
  EXPECT_EQ(default_font_path(), "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
  setenv("IMAGEPIPE_FONT", "/opt/fonts/Brand.ttf", 1);
  EXPECT_EQ(default_font_path(), "/opt/fonts/Brand.ttf");
  unsetenv("IMAGEPIPE_FONT");
}

bool reddish(const std::uint8_t* p) { return p[0] > p[1] + 40 && p[0] > p[2] + 40; }

TEST(DrawText, PaintsRedInsideTheBoxAndNothingOutside) {
  Image image = testing::solid(320, 200, {200, 200, 200});
  TextStyle style;
  style.size_px = 40;
  style.opacity = 1.0;
  const auto [x, y, w, h] = draw_text(image, "Hello", style);
  ASSERT_GT(w, 40);
  ASSERT_GT(h, 20);
  // Centred: the box's centre is near the image's.
  EXPECT_NEAR(x + w / 2, 160, 8);
  EXPECT_NEAR(y + h / 2, 100, 20);
  int red_inside = 0;
  for (int py = 0; py < image.height; ++py) {
    for (int px = 0; px < image.width; ++px) {
      const bool inside = px >= x && px < x + w && py >= y && py < y + h;
      const std::uint8_t* p = image.at(px, py);
      if (inside) {
        red_inside += reddish(p);
      } else {
        ASSERT_EQ(testing::pixel(image, px, py), (std::vector<std::uint8_t>{200, 200, 200}))
            << "painted outside the box at " << px << "," << py;
      }
    }
  }
  EXPECT_GT(red_inside, 200);
}

TEST(DrawText, OpacityBlendsWithTheBackground) {
  Image image = testing::solid(200, 100, {0, 0, 255});
  TextStyle style;
  style.size_px = 60;
  style.opacity = 0.5;
  draw_text(image, "I", style);
  int full = 0;
  for (int py = 0; py < image.height; ++py)
    for (int px = 0; px < image.width; ++px)
      if (image.at(px, py)[0] >= 126) {
        ++full;
        // Full coverage at half opacity: halfway between blue and red.
        EXPECT_NEAR(image.at(px, py)[0], 128, 2);
        EXPECT_NEAR(image.at(px, py)[2], 128, 2);
      }
  EXPECT_GT(full, 50);
}

TEST(DrawText, PositionsFollowTheStyle) {
  TextStyle style;
  style.size_px = 20;
  style.margin_px = 10;
  Image a = testing::solid(300, 200, {0, 0, 0});
  style.position = TextPosition::top_left;
  const auto top_left = draw_text(a, "Tag", style);
  EXPECT_NEAR(top_left[0], 10, 3);
  EXPECT_NEAR(top_left[1], 10, 6);
  Image b = testing::solid(300, 200, {0, 0, 0});
  style.position = TextPosition::bottom_right;
  const auto bottom_right = draw_text(b, "Tag", style);
  EXPECT_NEAR(bottom_right[0] + bottom_right[2], 290, 3);
  EXPECT_NEAR(bottom_right[1] + bottom_right[3], 190, 8);
}

TEST(DrawText, WrapsLongTextWithinTheMargins) {
  Image image = testing::solid(200, 300, {255, 255, 255});
  TextStyle style;
  style.size_px = 24;
  style.margin_px = 10;
  const auto box = draw_text(image, "the quick brown fox jumps over the lazy dog", style);
  EXPECT_GE(box[0], 10);
  EXPECT_LE(box[0] + box[2], 190);
  EXPECT_GT(box[3], 24 * 3);  // several lines
}

TEST(DrawText, AutomaticSizeFollowsTheImageHeight) {
  Image small = testing::solid(600, 120, {0, 0, 0});
  Image large = testing::solid(600, 480, {0, 0, 0});
  TextStyle style;
  style.size_px = 0;
  const int small_h = draw_text(small, "H", style)[3];
  const int large_h = draw_text(large, "H", style)[3];
  EXPECT_NEAR(small_h, 12 * 0.73, 3);  // cap height of DejaVu Sans ~0.73 em, min size 12
  EXPECT_NEAR(large_h, 40 * 0.73, 3);  // 480 / 12 = 40 px
}

TEST(DrawText, RgbaTargetGainsAlphaUnderTheText) {
  Image image = testing::solid(100, 60, {0, 0, 0, 0});
  TextStyle style;
  style.size_px = 40;
  style.opacity = 1.0;
  draw_text(image, "I", style);
  int opaque_red = 0;
  for (int py = 0; py < image.height; ++py)
    for (int px = 0; px < image.width; ++px)
      if (image.at(px, py)[3] == 255) opaque_red += image.at(px, py)[0] == 255;
  EXPECT_GT(opaque_red, 30);
}

TEST(DrawText, InvalidUtf8AndEmptyTextAreHarmless) {
  Image image = testing::solid(100, 50, {0, 0, 0});
  EXPECT_EQ(draw_text(image, "", {}), (std::array<int, 4>{0, 0, 0, 0}));
  const auto box = draw_text(image, std::string("a\xff\xc3(b", 5), {});
  EXPECT_GT(box[2], 0);
}

TEST(DrawText, RefusesGrayImagesAndMissingFonts) {
  Image gray = testing::solid(10, 10, {0});
  EXPECT_THROW(draw_text(gray, "x", {}), Error);
  Image rgb = testing::solid(10, 10, {0, 0, 0});
  TextStyle style;
  style.font_path = "/nonexistent/font.ttf";
  try {
    draw_text(rgb, "x", style);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
    EXPECT_TRUE(std::string(e.what()).starts_with("cannot load font '/nonexistent/font.ttf': "))
        << e.what();
  }
}

TEST(DrawText, ConcurrentCallsDrawTheSame) {
  const Image blank = testing::solid(240, 120, {10, 10, 10});
  Image reference = blank;
  TextStyle style;
  style.size_px = 30;
  draw_text(reference, "Parallel text", style);
  std::vector<Image> results(4, blank);
  std::vector<std::thread> threads;
  for (auto& result : results)
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        Image copy = blank;
        draw_text(copy, "Parallel text", style);
        result = copy;
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& result : results) EXPECT_TRUE(testing::images_near(result, reference, 0));
}

}  // namespace
}  // namespace imagepipe

namespace imagepipe {
namespace {

TEST(FitTextSize, LargestSizeThatFits) {
  TextStyle style;
  style.margin_px = 10;
  // A short word in a big image: capped by the maximum asked for.
  EXPECT_EQ(fit_text_size(1000, 1000, "Hi", style, 100), 100);
  // A long text must shrink, and what is returned fits when drawn.
  const std::string text = "a rather long prompt that has to wrap over several lines to fit";
  const int size = fit_text_size(300, 120, text, style, 200);
  EXPECT_GT(size, 12);
  EXPECT_LT(size, 60);
  Image image = testing::solid(300, 120, {0, 0, 0});
  style.size_px = size;
  const auto box = draw_text(image, text, style);
  EXPECT_GE(box[1], 8);
  EXPECT_LE(box[1] + box[3], 112);
  // One size larger no longer fits in height.
  Image bigger = testing::solid(300, 120, {0, 0, 0});
  style.size_px = size + 2;
  const auto overflow = draw_text(bigger, text, style);
  EXPECT_TRUE(overflow[1] < 10 || overflow[1] + overflow[3] > 110 || overflow[2] > 280);
  // Never below the legible minimum.
  EXPECT_EQ(fit_text_size(40, 40, text, style, 100), 12);
}

}  // namespace
}  // namespace imagepipe
