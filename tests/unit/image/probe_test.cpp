// probe_image and decode_image on untrusted bytes: every format's header, limits checked
// before any pixel is decoded, and damaged data refused with a readable message.
#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "imagepipe/error.hpp"
#include "imagepipe/image.hpp"
#include "png_bytes.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

using testing::encode;

// The message of the Error(invalid_input) that f throws; fails the test otherwise.
template <class F>
std::string refusal(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected Error(invalid_input)";
  return {};
}

std::string data_file(const std::string& name) {
  return testing::read_file(std::string(IMAGEPIPE_TEST_DATA) + "/" + name);
}

// A real 16x8 baseline JPEG whose SOF0 header is rewritten to declare width x height.
std::string jpeg_declaring(int width, int height) {
  std::string jpeg = encode(testing::gradient(16, 8), ImageFormat::jpeg);
  const std::size_t sof = jpeg.find("\xFF\xC0");
  EXPECT_NE(sof, std::string::npos);
  // FF C0, length (2), precision (1), height (2), width (2).
  jpeg[sof + 5] = char(height >> 8), jpeg[sof + 6] = char(height & 0xFF);
  jpeg[sof + 7] = char(width >> 8), jpeg[sof + 8] = char(width & 0xFF);
  return jpeg;
}

TEST(Probe, ReadsEachFormatsHeader) {
  struct Case {
    std::string bytes;
    ImageFormat format;
    int width, height, channels;
  };
  const Case cases[] = {
      {encode(testing::gradient(31, 17, 4), ImageFormat::png), ImageFormat::png, 31, 17, 4},
      {encode(testing::gradient(31, 17, 1), ImageFormat::png), ImageFormat::png, 31, 17, 1},
      {encode(testing::gradient(31, 17, 3), ImageFormat::jpeg), ImageFormat::jpeg, 31, 17, 3},
      {encode(testing::gradient(31, 17, 1), ImageFormat::jpeg), ImageFormat::jpeg, 31, 17, 1},
      {encode(testing::gradient(31, 17, 3), ImageFormat::webp), ImageFormat::webp, 31, 17, 3},
      {encode_image(testing::solid(31, 17, {1, 2, 3, 128}), {ImageFormat::webp, 90, 6, true}),
       ImageFormat::webp, 31, 17, 4},
      {data_file("tiny.bmp"), ImageFormat::bmp, 6, 4, 3},
      {data_file("tiny.tiff"), ImageFormat::tiff, 6, 4, 3},
  };
  for (const Case& c : cases) {
    const ImageInfo info = probe_image(c.bytes);
    EXPECT_EQ(info.format, c.format) << to_string(c.format);
    EXPECT_EQ(info.width, c.width) << to_string(c.format);
    EXPECT_EQ(info.height, c.height) << to_string(c.format);
    EXPECT_EQ(info.channels, c.channels) << to_string(c.format);
  }
}

TEST(Probe, GifHeaderIsRead) {
  const ImageInfo info = probe_image(data_file("tiny.gif"));
  EXPECT_EQ(info.format, ImageFormat::gif);
  EXPECT_EQ(info.width, 6);
  EXPECT_EQ(info.height, 4);
}

TEST(Decode, OpenImageIoFormatsGiveTheirPixels) {
  for (const char* name : {"tiny.bmp", "tiny.tiff", "tiny.gif"}) {
    const Image image = decode_image(data_file(name));
    ASSERT_EQ(image.width, 6) << name;
    ASSERT_GE(image.channels, 3) << name;
    // Left half (200, 100, 50), right half (10, 20, 30); GIF's palette may round a little.
    EXPECT_NEAR(image.at(0, 0)[0], 200, 4) << name;
    EXPECT_NEAR(image.at(0, 0)[1], 100, 4) << name;
    EXPECT_NEAR(image.at(5, 3)[2], 30, 4) << name;
  }
}

TEST(Probe, RefusesAnOverLimitPngFromItsHeaderAlone) {
  const std::string png = testing::make_png(100000, 100000, 8, 2, "");
  ASSERT_LT(png.size(), 100u);
  DecodeLimits limits;
  limits.max_pixels = 100'000'000;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(refusal([&] { probe_image(png, limits); }),
            "image is 100000x100000 = 10000000000 pixels, over the limit of 100000000 pixels");
  EXPECT_EQ(refusal([&] { decode_image(png, limits); }),
            "image is 100000x100000 = 10000000000 pixels, over the limit of 100000000 pixels");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
}

TEST(Decode, RefusesAPngDeclaringMorePixelsThanItsDataCouldHold) {
  // Within a generous pixel limit, but 30 GB of pixels cannot come from 12 bytes of IDAT.
  const std::string png = testing::make_png(100000, 100000, 8, 2, "");
  DecodeLimits limits;
  limits.max_pixels = 20'000'000'000ULL;
  EXPECT_EQ(refusal([&] { decode_image(png, limits); }),
            "truncated or corrupt PNG: declares 100000x100000 pixels but holds only 11 bytes "
            "of image data");
}

TEST(Probe, RefusesAnOverLimitJpegFromItsHeaderAlone) {
  const std::string jpeg = jpeg_declaring(60000, 60000);
  DecodeLimits limits;
  limits.max_pixels = 100'000'000;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(refusal([&] { decode_image(jpeg, limits); }),
            "image is 60000x60000 = 3600000000 pixels, over the limit of 100000000 pixels");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
}

TEST(Probe, RefusesDataOverTheByteLimit) {
  DecodeLimits limits;
  limits.max_bytes = 100;
  const std::string png = encode(testing::photo_like(64, 64), ImageFormat::png);
  EXPECT_EQ(refusal([&] { probe_image(png, limits); }),
            "image data is " + std::to_string(png.size()) + " bytes, over the limit of 100 bytes");
}

TEST(Probe, RefusesBytesThatAreNotAnImage) {
  EXPECT_EQ(refusal([] { probe_image("hello world!"); }),
            "not an image (unrecognised data, 12 bytes)");
  EXPECT_EQ(refusal([] { decode_image(""); }), "not an image (empty data)");
  std::string noise(4096, '\0');
  std::uint32_t state = 12345;
  for (char& c : noise) c = char((state = state * 1103515245 + 12345) >> 24);
  noise[0] = 'x';  // no accidental magic number
  EXPECT_EQ(refusal([&] { decode_image(noise); }), "not an image (unrecognised data, 4096 bytes)");
}

TEST(Decode, RefusesTruncatedPng) {
  const std::string png = encode(testing::photo_like(64, 64), ImageFormat::png);
  EXPECT_EQ(refusal([&] { decode_image(png.substr(0, png.size() / 2)); }),
            "truncated or corrupt PNG: unexpected end of data");
  EXPECT_EQ(refusal([&] { decode_image(png.substr(0, 20)); }),
            "truncated or corrupt PNG: no IHDR header after the signature");
}

TEST(Decode, RefusesPngWithDamagedData) {
  std::string png = encode(testing::photo_like(64, 64), ImageFormat::png);
  const std::size_t idat = png.find("IDAT");
  for (std::size_t i = idat + 40; i < idat + 60; ++i) png[i] = char(~png[i]);
  const std::string message = refusal([&] { decode_image(png); });
  EXPECT_TRUE(message.starts_with("truncated or corrupt PNG: ")) << message;
}

TEST(Decode, RefusesTruncatedJpeg) {
  const std::string jpeg = encode(testing::photo_like(128, 128), ImageFormat::jpeg);
  EXPECT_EQ(refusal([&] { decode_image(jpeg.substr(0, jpeg.size() / 2)); }),
            "truncated or corrupt JPEG: Premature end of JPEG file");
  const std::string message = refusal([&] { decode_image(jpeg.substr(0, 40)); });
  EXPECT_TRUE(message.starts_with("truncated or corrupt JPEG: ")) << message;
}

TEST(Decode, RefusesTruncatedWebp) {
  const std::string webp = encode(testing::photo_like(64, 64), ImageFormat::webp);
  EXPECT_EQ(refusal([&] { decode_image(webp.substr(0, webp.size() / 2)); }),
            "truncated or corrupt WEBP: unexpected end of data");
}

TEST(Decode, RefusesAZeroSizedPng) {
  EXPECT_EQ(refusal([] { probe_image(testing::make_png(0, 5, 8, 2, "")); }),
            "truncated or corrupt PNG: width or height is zero");
}

TEST(Decode, SurvivesEveryPrefixOfSmallFiles) {
  // Every cut of a small file is either decoded or refused with Error; nothing else.
  for (ImageFormat format : {ImageFormat::png, ImageFormat::jpeg, ImageFormat::webp}) {
    const std::string bytes = encode(testing::photo_like(24, 24), format);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      try {
        decode_image(bytes.substr(0, n));
      } catch (const Error& e) {
        EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
      }
    }
  }
}

// verify_image: what the daemon runs on an image before a provider is paid to read it.
TEST(Verify, AcceptsWholeImagesAndReportsTheirHeader) {
  for (ImageFormat format : {ImageFormat::png, ImageFormat::jpeg, ImageFormat::webp}) {
    const std::string bytes = encode(testing::photo_like(96, 64), format);
    const ImageInfo info = verify_image(bytes);
    EXPECT_EQ(info.format, format);
    EXPECT_EQ(info.width, 96);
    EXPECT_EQ(info.height, 64);
  }
  EXPECT_EQ(verify_image(data_file("sample.jpg")).format, ImageFormat::jpeg);
  EXPECT_EQ(verify_image(data_file("tiny.gif")).format, ImageFormat::gif);
  EXPECT_EQ(verify_image(data_file("tiny.bmp")).format, ImageFormat::bmp);
}

TEST(Verify, RefusesImagesCutInHalfThatProbeAccepts) {
  const std::string jpeg = encode(testing::photo_like(256, 256), ImageFormat::jpeg);
  const std::string png = encode(testing::photo_like(256, 256), ImageFormat::png);
  const auto half_jpeg = jpeg.substr(0, jpeg.size() / 2);
  const auto half_png = png.substr(0, png.size() / 2);
  EXPECT_NO_THROW(probe_image(half_jpeg));
  EXPECT_NO_THROW(probe_image(half_png));
  EXPECT_EQ(refusal([&] { verify_image(half_jpeg); }),
            "truncated or corrupt JPEG: Premature end of JPEG file");
  EXPECT_EQ(refusal([&] { verify_image(half_png); }),
            "truncated or corrupt PNG: unexpected end of data");
}

TEST(Verify, RefusesPngWithDamagedRowsOrNoEnd) {
  std::string png = encode(testing::photo_like(64, 64), ImageFormat::png);
  // The rows are all there; only IEND is missing.
  EXPECT_EQ(refusal([&] { verify_image(png.substr(0, png.size() - 12)); }),
            "truncated or corrupt PNG: unexpected end of data");
  const std::size_t idat = png.find("IDAT");
  for (std::size_t i = idat + 40; i < idat + 60; ++i) png[i] = char(~png[i]);
  EXPECT_THAT(refusal([&] { verify_image(png); }),
              ::testing::StartsWith("truncated or corrupt PNG: "));
}

TEST(Verify, RefusesEveryProperPrefixOfSmallFiles) {
  for (ImageFormat format : {ImageFormat::png, ImageFormat::jpeg}) {
    const std::string bytes = encode(testing::photo_like(24, 24), format);
    for (std::size_t n = 0; n < bytes.size(); ++n)
      EXPECT_THROW(verify_image(bytes.substr(0, n)), Error) << to_string(format) << " cut at " << n;
    EXPECT_NO_THROW(verify_image(bytes));
  }
}

}  // namespace
}  // namespace imagepipe
