// Round trips through each codec on real pixels, and the channel layouts files carry.
#include <gtest/gtest.h>

#include "imagepipe/error.hpp"
#include "imagepipe/image.hpp"
#include "png_bytes.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

using testing::encode;
using testing::images_near;
using testing::pixel;

TEST(PngCodec, RoundTripIsExactForEveryChannelCount) {
  for (int channels = 1; channels <= 4; ++channels) {
    const Image original = testing::gradient(37, 23, channels);
    for (int level : {0, 1, 2, 3, 4, 6, 9}) {
      const std::string png = encode_image(original, {ImageFormat::png, 90, level, false});
      EXPECT_EQ(sniff_format(png), ImageFormat::png);
      EXPECT_TRUE(images_near(decode_image(png), original, 0))
          << channels << " channels, level " << level;
    }
  }
}

TEST(PngCodec, PhotoLikeImageRoundTripsExactly) {
  const Image original = testing::photo_like(200, 150);
  EXPECT_TRUE(images_near(decode_image(encode(original, ImageFormat::png)), original, 0));
}

TEST(PngCodec, SixteenBitRgbIsScaledToEightBits) {
  // Two pixels: (0xFFFF, 0x8080, 0x0000) and (0x1234, 0xFEFF, 0x00FF).
  const std::string rows("\xFF\xFF\x80\x80\x00\x00\x12\x34\xFE\xFF\x00\xFF", 12);
  const Image image = decode_image(testing::make_png(2, 1, 16, 2, rows));
  ASSERT_EQ(image.channels, 3);
  EXPECT_EQ(pixel(image, 0, 0), (std::vector<std::uint8_t>{255, 128, 0}));
  EXPECT_EQ(pixel(image, 1, 0), (std::vector<std::uint8_t>{18, 254, 1}));
}

TEST(PngCodec, GrayWithOneBitDepthExpandsToEightBits) {
  // 8 pixels in one byte: 1,0,1,0,0,0,0,1.
  const Image image = decode_image(testing::make_png(8, 1, 1, 0, std::string("\xA1", 1)));
  ASSERT_EQ(image.channels, 1);
  EXPECT_EQ(image.pixels, (std::vector<std::uint8_t>{255, 0, 255, 0, 0, 0, 0, 255}));
}

TEST(PngCodec, PaletteWithTransparencyBecomesRgba) {
  const std::string palette("\xFF\x00\x00\x00\x00\xFF", 6);  // red, blue
  const std::string trns("\x80", 1);                         // red is half transparent
  const std::string png = testing::make_png(2, 1, 8, 3, std::string("\x00\x01", 2),
                                            {{"PLTE", palette}, {"tRNS", trns}});
  EXPECT_EQ(probe_image(png).channels, 4);
  const Image image = decode_image(png);
  ASSERT_EQ(image.channels, 4);
  EXPECT_EQ(pixel(image, 0, 0), (std::vector<std::uint8_t>{255, 0, 0, 128}));
  EXPECT_EQ(pixel(image, 1, 0), (std::vector<std::uint8_t>{0, 0, 255, 255}));
}

TEST(PngCodec, GrayAlphaKeepsTwoChannels) {
  const Image image = decode_image(testing::make_png(1, 1, 8, 4, std::string("\x40\x90", 2)));
  ASSERT_EQ(image.channels, 2);
  EXPECT_EQ(pixel(image, 0, 0), (std::vector<std::uint8_t>{0x40, 0x90}));
}

TEST(PngCodec, FastLevelsStayCloseToTheBestInSize) {
  const Image photo = testing::photo_like(256, 256);
  const std::size_t raw = photo.pixels.size();
  const std::size_t fast = encode_image(photo, {ImageFormat::png, 90, 1, false}).size();
  const std::size_t best = encode_image(photo, {ImageFormat::png, 90, 9, false}).size();
  const std::size_t stored = encode_image(photo, {ImageFormat::png, 90, 0, false}).size();
  EXPECT_LT(double(fast), 1.25 * double(best));
  EXPECT_LT(fast, raw * 3 / 4);
  EXPECT_GT(stored, raw);
}

TEST(JpegCodec, RoundTripStaysWithinTolerance) {
  const Image original = testing::gradient(64, 48, 3);
  const Image decoded = decode_image(encode(original, ImageFormat::jpeg, 95));
  ASSERT_EQ(decoded.channels, 3);
  EXPECT_LT(testing::mean_difference(decoded, original), 2.0);
  EXPECT_LE(testing::max_difference(decoded, original), 16);
}

TEST(JpegCodec, GrayStaysGray) {
  const Image original = testing::gradient(32, 32, 1);
  const Image decoded = decode_image(encode(original, ImageFormat::jpeg, 95));
  ASSERT_EQ(decoded.channels, 1);
  EXPECT_LT(testing::mean_difference(decoded, original), 2.0);
}

TEST(JpegCodec, AlphaIsLaidOverWhite) {
  const Image transparent = testing::solid(16, 16, {0, 0, 0, 0});
  const Image decoded = decode_image(encode(transparent, ImageFormat::jpeg, 95));
  ASSERT_EQ(decoded.channels, 3);
  EXPECT_TRUE(images_near(decoded, testing::solid(16, 16, {255, 255, 255}), 2));
}

TEST(JpegCodec, ScaledDecodePicksTheSmallestScaleAboveTheHint) {
  const std::string jpeg = encode(testing::photo_like(400, 300), ImageFormat::jpeg);
  auto size_for = [&](int min_w, int min_h) {
    const Image image = decode_image(jpeg, {}, min_w, min_h);
    return std::make_pair(image.width, image.height);
  };
  EXPECT_EQ(size_for(0, 0), std::make_pair(400, 300));
  EXPECT_EQ(size_for(200, 150), std::make_pair(200, 150));
  EXPECT_EQ(size_for(201, 0), std::make_pair(400, 300));
  EXPECT_EQ(size_for(100, 0), std::make_pair(100, 75));
  EXPECT_EQ(size_for(0, 38), std::make_pair(50, 38));
  EXPECT_EQ(size_for(1, 1), std::make_pair(50, 38));
  // Other formats ignore the hint.
  const Image png = decode_image(encode(testing::gradient(40, 30), ImageFormat::png), {}, 5, 5);
  EXPECT_EQ(png.width, 40);
}

// A gradient whose alpha also varies (an all-opaque alpha is not stored by WebP).
Image translucent_gradient(int width, int height) {
  Image image = testing::gradient(width, height, 4);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) image.at(x, y)[3] = std::uint8_t(255 - 7 * x);
  return image;
}

TEST(WebpCodec, LosslessRoundTripIsExact) {
  for (int channels : {3, 4}) {
    const Image original =
        channels == 4 ? translucent_gradient(33, 17) : testing::gradient(33, 17, channels);
    const std::string webp = encode_image(original, {ImageFormat::webp, 90, 6, true});
    EXPECT_EQ(sniff_format(webp), ImageFormat::webp);
    EXPECT_TRUE(images_near(decode_image(webp), original, 0)) << channels << " channels";
  }
}

TEST(WebpCodec, LossyRoundTripStaysWithinTolerance) {
  const Image original = testing::gradient(64, 64, 3);
  const Image decoded = decode_image(encode(original, ImageFormat::webp, 95));
  EXPECT_LT(testing::mean_difference(decoded, original), 3.0);
}

TEST(WebpCodec, OpaqueAlphaIsNotStored) {
  const std::string webp =
      encode_image(testing::gradient(8, 8, 4), {ImageFormat::webp, 90, 6, true});
  EXPECT_EQ(probe_image(webp).channels, 3);
}

TEST(WebpCodec, GrayIsWrittenAsRgb) {
  const Image decoded =
      decode_image(encode_image(testing::solid(8, 8, {77}), {ImageFormat::webp, 90, 6, true}));
  EXPECT_TRUE(images_near(decoded, testing::solid(8, 8, {77, 77, 77}), 0));
}

TEST(Encode, RefusesFormatsItCannotWrite) {
  try {
    encode_image(testing::solid(2, 2, {0, 0, 0}), {ImageFormat::gif, 90, 6, false});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "cannot encode gif: written are png, jpeg, webp, tiff, exr, hdr, bmp, tga, pnm and dpx, "
                 "16-bit as png, tiff and dpx");
  }
}

TEST(Encode, RefusesAnImageWhosePixelsDoNotMatchItsSize) {
  Image broken(4, 4, 3);
  broken.pixels.resize(5);
  EXPECT_THROW(encode_image(broken, {}), Error);
}

}  // namespace
}  // namespace imagepipe
