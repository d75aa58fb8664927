// GIF (giflib), BMP (OpenImageIO) and TIFF (libtiff) against Pillow's reading of the same
// files (tests/data/codecs/<file>.png holds Pillow's pixels), and hand-built BMP headers
// Pillow does not write.
#include <gtest/gtest.h>

#include "imagepipe/error.hpp"
#include "imagepipe/image.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

std::string codec_file(const std::string& name) {
  return testing::read_file(std::string(IMAGEPIPE_TEST_DATA) + "/codecs/" + name);
}

struct Case {
  const char* file;
  ImageFormat format;
  int channels;
  int tolerance;
};

TEST(MoreFormats, DecodeLikePillow) {
  const Case cases[] = {
      {"many-colours.gif", ImageFormat::gif, 3, 0}, {"interlaced.gif", ImageFormat::gif, 3, 0},
      {"rgb24.bmp", ImageFormat::bmp, 3, 0},        {"palette8.bmp", ImageFormat::bmp, 3, 0},
      {"rgba32.bmp", ImageFormat::bmp, 3, 0},       {"lzw.tiff", ImageFormat::tiff, 3, 0},
      {"gray.tiff", ImageFormat::tiff, 1, 0},
  };
  for (const Case& c : cases) {
    const std::string bytes = codec_file(c.file);
    const ImageInfo info = probe_image(bytes);
    EXPECT_EQ(info.format, c.format) << c.file;
    EXPECT_EQ(info.channels, c.channels) << c.file;
    const Image image = decode_image(bytes);
    const Image expected = decode_image(codec_file(std::string(c.file) + ".png"));
    EXPECT_TRUE(testing::images_near(image, expected, c.tolerance)) << c.file;
    EXPECT_EQ(image.width, info.width) << c.file;
  }
}

TEST(MoreFormats, OneBitBmpIsBlackAndWhite) {
  const Image image = decode_image(codec_file("mono1.bmp"));
  const Image expected = decode_image(codec_file("mono1.bmp.png"));  // gray
  ASSERT_EQ(image.channels, 3);
  ASSERT_EQ(expected.channels, 1);
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      ASSERT_EQ(image.at(x, y)[1], expected.at(x, y)[0]) << x << "," << y;
}

TEST(MoreFormats, TransparentGifHasAlpha) {
  const Image image = decode_image(codec_file("transparent.gif"));
  const Image expected = decode_image(codec_file("transparent.gif.png"));
  ASSERT_EQ(image.channels, 4);
  ASSERT_EQ(image.width, expected.width);
  int transparent = 0;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      const std::uint8_t* p = image.at(x, y);
      const std::uint8_t* e = expected.at(x, y);
      ASSERT_EQ(p[3], e[3]) << x << "," << y;
      // Transparent pixels are transparent black here; Pillow keeps their palette colour.
      if (p[3] == 0) {
        ++transparent;
        continue;
      }
      ASSERT_EQ(testing::pixel(image, x, y), testing::pixel(expected, x, y)) << x << "," << y;
    }
  EXPECT_GT(transparent, 0);
}

TEST(MoreFormats, TiffAlphaIsUnpremultiplied) {
  const Image image = decode_image(codec_file("rgba.tiff"));
  const Image expected = decode_image(codec_file("rgba.tiff.png"));
  ASSERT_EQ(image.channels, 4);
  ASSERT_EQ(image.width, expected.width);
  // Colours survive libtiff's premultiplication to within rounding where alpha is not tiny.
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      const std::uint8_t* p = image.at(x, y);
      const std::uint8_t* e = expected.at(x, y);
      ASSERT_EQ(p[3], e[3]);
      if (e[3] < 64) continue;
      for (int c = 0; c < 3; ++c) ASSERT_NEAR(p[c], e[c], 4) << x << "," << y;
    }
}

// A BMP with a 108-byte (V4) header and bit-field masks, bottom-up unless height < 0.
std::string bmp_with_masks(int width, int height, int bits, std::array<std::uint32_t, 4> masks,
                           const std::vector<std::uint32_t>& pixels) {
  auto put = [](std::string& s, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) s.push_back(char((v >> (8 * i)) & 0xFF));
  };
  const int rows = height < 0 ? -height : height;
  const std::size_t stride = (std::size_t(width) * bits + 31) / 32 * 4;
  std::string info;
  put(info, 108, 4), put(info, std::uint32_t(width), 4), put(info, std::uint32_t(height), 4);
  put(info, 1, 2), put(info, std::uint32_t(bits), 2), put(info, 3, 4);  // BI_BITFIELDS
  put(info, std::uint32_t(stride * rows), 4);
  for (int i = 0; i < 4; ++i) put(info, 0, 4);    // resolution, colours
  for (std::uint32_t m : masks) put(info, m, 4);  // R, G, B, A masks
  info.resize(108, '\0');                         // colour space fields
  std::string data;
  for (int r = 0; r < rows; ++r) {
    std::string row;
    for (int x = 0; x < width; ++x) put(row, pixels[std::size_t(r) * width + x], bits / 8);
    row.resize(stride, '\0');
    data += row;
  }
  std::string file = "BM";
  put(file, std::uint32_t(14 + info.size() + data.size()), 4), put(file, 0, 4);
  put(file, std::uint32_t(14 + info.size()), 4);
  return file + info + data;
}

TEST(MoreFormats, BmpBitFieldsWithAlphaAndTopDownRows) {
  // Top-down 2x1, 32-bit ARGB: opaque red, half-transparent blue.
  const std::string bmp = bmp_with_masks(
      2, -1, 32, {0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000}, {0xFFFF0000, 0x800000FF});
  EXPECT_EQ(probe_image(bmp).channels, 4);
  const Image image = decode_image(bmp);
  EXPECT_EQ(testing::pixel(image, 0, 0), (std::vector<std::uint8_t>{255, 0, 0, 255}));
  EXPECT_EQ(testing::pixel(image, 1, 0), (std::vector<std::uint8_t>{0, 0, 255, 128}));
}

TEST(MoreFormats, Bmp565ScalesFieldsToEightBits) {
  // Bottom-up 1x2: the first stored row is the bottom one.
  const std::string bmp = bmp_with_masks(1, 2, 16, {0xF800, 0x07E0, 0x001F, 0}, {0xFFFF, 0x07E0});
  const Image image = decode_image(bmp);
  ASSERT_EQ(image.channels, 3);
  EXPECT_EQ(testing::pixel(image, 0, 1), (std::vector<std::uint8_t>{255, 255, 255}));
  EXPECT_EQ(testing::pixel(image, 0, 0), (std::vector<std::uint8_t>{0, 255, 0}));
}

std::string refusal(const std::string& bytes) {
  try {
    decode_image(bytes);
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected Error(invalid_input)";
  return {};
}

TEST(MoreFormats, TruncatedFilesAreRefused) {
  const std::string gif = codec_file("many-colours.gif");
  EXPECT_EQ(refusal(gif.substr(0, gif.size() / 2)),
            "truncated or corrupt GIF: unexpected end of data");
  const std::string bmp = codec_file("rgb24.bmp");
  EXPECT_EQ(refusal(bmp.substr(0, bmp.size() / 2)),
            "truncated or corrupt BMP: Read error: hit end of file");
  const std::string tiff = codec_file("lzw.tiff");
  const std::string message = refusal(tiff.substr(0, tiff.size() / 2));
  EXPECT_TRUE(message.starts_with("truncated or corrupt TIFF: ")) << message;
}

TEST(MoreFormats, EveryPrefixIsDecodedOrRefused) {
  for (const char* name : {"transparent.gif", "palette8.bmp", "gray.tiff"}) {
    const std::string bytes = codec_file(name);
    for (std::size_t n = 0; n < bytes.size(); n += 7) {
      try {
        decode_image(bytes.substr(0, n));
      } catch (const Error& e) {
        EXPECT_EQ(e.cls(), ErrorClass::invalid_input) << name << " cut at " << n;
      }
    }
  }
}

// OpenImageIO reads RLE BMPs (the hand-written decoder refused them); run-length data
// that points outside the image is refused as corrupt, in one line.
TEST(MoreFormats, DamagedRleBmpIsRefusedAsCorrupt) {
  std::string bmp = codec_file("palette8.bmp");
  bmp[30] = 1;  // BI_RLE8, over pixel data that is not run-length coded
  const std::string message = refusal(bmp);
  EXPECT_TRUE(message.starts_with("truncated or corrupt BMP: ")) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

}  // namespace
}  // namespace imagepipe
