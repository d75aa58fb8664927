// The formats read and written through the OpenImageIO module, on files made here by
// OpenImageIO's own oiiotool (package openimageio-tools): nothing is downloaded. Each
// file is a 40x20 image whose left half and right half have known colours, so a decode
// that swaps channels, rows or halves shows.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "imagepipe/error.hpp"
#include "imagepipe/image.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

namespace fs = std::filesystem;

class OiioFormats : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("imagepipe-oiio-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  void SetUp() override {
    if (std::system("oiiotool --version >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "oiiotool is not installed (Debian: openimageio-tools)";
  }

  // oiiotool ARGS -o NAME, then the file's bytes.
  static std::string make(const std::string& name, const std::string& args) {
    const fs::path path = dir_ / name;
    const std::string command = "oiiotool " + args + " -o " + path.string() + " 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return testing::read_file(path.string());
  }

  // Left half (0.8, 0.4, 0.2), right half (0.1, 0.2, 0.6), 40x20 times `scale`, in the
  // given data type.
  static std::string halves(const std::string& name, const std::string& type,
                            const std::string& extra = "", int scale = 1) {
    const auto n = [scale](int v) { return std::to_string(v * scale); };
    return make(name, "--create " + n(40) + "x" + n(20) + " 3 --fill:color=0.8,0.4,0.2 0,0," +
                          n(20) + "," + n(20) + " --fill:color=0.1,0.2,0.6 " + n(20) + ",0," +
                          n(40) + "," + n(20) + " -d " + type + " " + extra);
  }

  static fs::path dir_;
};

fs::path OiioFormats::dir_;

std::uint8_t srgb8(double linear) {
  const double v = linear <= 0.0031308 ? 12.92 * linear : 1.055 * std::pow(linear, 1 / 2.4) - 0.055;
  return static_cast<std::uint8_t>(std::lround(v * 255));
}

void expect_halves(const Image& image, bool linear, int tolerance, const std::string& what,
                   int scale = 1) {
  ASSERT_EQ(image.width, 40 * scale) << what;
  ASSERT_EQ(image.height, 20 * scale) << what;
  ASSERT_GE(image.channels, 3) << what;
  auto value = [&](double v) { return linear ? srgb8(v) : std::uint8_t(std::lround(v * 255)); };
  const std::vector<std::uint8_t> left = {value(0.8), value(0.4), value(0.2)};
  const std::vector<std::uint8_t> right = {value(0.1), value(0.2), value(0.6)};
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(image.at(5 * scale, 10 * scale)[c], left[c], tolerance)
        << what << " left, channel " << c;
    EXPECT_NEAR(image.at(35 * scale, 10 * scale)[c], right[c], tolerance)
        << what << " right, channel " << c;
  }
}

struct Made {
  const char* file;
  const char* type;
  ImageFormat format;
  bool linear;    // scene-referred: decoded through the sRGB curve
  int tolerance;  // lossy formats
  int bits;
  int scale = 1;  // OpenJPEG writes nothing below 32 pixels a side
};

TEST_F(OiioFormats, EachFormatDecodesToItsPixels) {
  const Made cases[] = {
      {"half.exr", "half", ImageFormat::exr, true, 1, 32},
      {"float.hdr", "float", ImageFormat::hdr, true, 2, 32},
      {"float.tif", "float", ImageFormat::tiff, false, 1, 32},
      {"sixteen.tif", "uint16", ImageFormat::tiff, false, 1, 16},
      {"ten.dpx", "uint16", ImageFormat::dpx, false, 1, 16},
      {"eight.jp2", "uint8", ImageFormat::jpeg2000, false, 2, 8, 2},
      {"eight.tga", "uint8", ImageFormat::tga, false, 1, 8},
      {"eight.ppm", "uint8", ImageFormat::pnm, false, 1, 8},
      {"eight.bmp", "uint8", ImageFormat::bmp, false, 1, 8},
      {"eight.ico", "uint8", ImageFormat::ico, false, 1, 8},
  };
  for (const Made& c : cases) {
    const std::string bytes = halves(c.file, c.type, "", c.scale);
    ASSERT_FALSE(bytes.empty()) << c.file;
    EXPECT_EQ(sniff_format(bytes), c.format) << c.file;
    const ImageInfo info = probe_image(bytes);
    EXPECT_EQ(info.format, c.format) << c.file;
    EXPECT_EQ(info.width, 40 * c.scale) << c.file;
    EXPECT_EQ(info.height, 20 * c.scale) << c.file;
    EXPECT_EQ(info.bits, c.bits) << c.file;
    expect_halves(decode_image(bytes), c.linear, c.tolerance, c.file, c.scale);
    EXPECT_EQ(verify_image(bytes).format, c.format) << c.file;
  }
}

TEST_F(OiioFormats, EncodeWritesEachFormatAndReadsItBack) {
  Image image(40, 20, 3);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 40; ++x) {
      const std::uint8_t rgb[3] = {std::uint8_t(x < 20 ? 204 : 26), std::uint8_t(x < 20 ? 102 : 51),
                                   std::uint8_t(x < 20 ? 51 : 153)};
      std::copy(rgb, rgb + 3, image.at(x, y));
    }
  for (ImageFormat format :
       {ImageFormat::tiff, ImageFormat::exr, ImageFormat::hdr, ImageFormat::bmp, ImageFormat::tga,
        ImageFormat::pnm, ImageFormat::dpx}) {
    EncodeSpec spec;
    spec.format = format;
    const std::string bytes = encode_image(image, spec);
    EXPECT_EQ(sniff_format(bytes), format) << to_string(format);
    const Image back = decode_image(bytes);
    // HDR's shared exponent keeps about 8 bits of mantissa for the largest channel only.
    const int tolerance = format == ImageFormat::hdr ? 6 : 1;
    EXPECT_LE(testing::max_difference(to_rgb_channels(back), image), tolerance)
        << to_string(format);
  }
}

// oiiotool's statistics of a file's samples ("Stats Min: 32768 16384 65535 (of 65535)").
std::string stats_min(const std::string& path) {
  const std::string command = "oiiotool " + path + " --printstats 2>&1";
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[512];
    while (fgets(buffer, sizeof buffer, pipe)) out += buffer;
    pclose(pipe);
  }
  const std::size_t at = out.find("Stats Min: ");
  return at == std::string::npos ? out : out.substr(at + 11, out.find('\n', at) - at - 11);
}

// A 16-bit TIFF's samples survive into a 16-bit output: written by the module file to file,
// never through 8-bit pixels. 0.5 is 32768 in 16 bits; through 8 bits it would come back
// as 128 * 257 = 32896.
TEST_F(OiioFormats, SixteenBitSamplesSurviveATranscode) {
  const std::string tiff =
      make("half-grey.tif", "--create 4x2 3 --fill:color=0.5,0.25,1 0,0,4,2 -d uint16");
  for (ImageFormat format : {ImageFormat::png, ImageFormat::tiff, ImageFormat::dpx}) {
    EncodeSpec spec;
    spec.format = format;
    spec.bit_depth = 16;
    const std::string out = transcode_image(tiff, spec);
    ASSERT_EQ(sniff_format(out), format);
    const fs::path path = dir_ / ("sixteen." + std::string(file_extension(format)));
    std::ofstream(path, std::ios::binary) << out;
    EXPECT_EQ(stats_min(path.string()), "32768 16384 65535 (of 65535)") << to_string(format);
  }
  // The 8-bit route, for contrast: what an Image holds.
  EncodeSpec png16;
  png16.bit_depth = 16;
  const std::string widened = encode_image(decode_image(tiff), png16);
  std::ofstream(dir_ / "widened.png", std::ios::binary) << widened;
  EXPECT_EQ(stats_min((dir_ / "widened.png").string()), "32896 16448 65535 (of 65535)");
}

// oiiotool writes no PSD: this one is made by hand, the simplest a PSD can be (RGB, 8 bits,
// no layers, raw planar data).
std::string psd_halves() {
  std::string psd = "8BPS";
  auto be16 = [&](int v) { psd += char(v >> 8), psd += char(v & 255); };
  auto be32 = [&](std::uint32_t v) { be16(int(v >> 16)), be16(int(v & 0xFFFF)); };
  be16(1);                      // version
  psd += std::string(6, '\0');  // reserved
  be16(3), be32(20), be32(40);  // channels, height, width
  be16(8), be16(3);             // depth, RGB
  be32(0), be32(0), be32(0);    // colour mode data, image resources, layers
  be16(0);                      // raw image data
  const int left[3] = {204, 102, 51}, right[3] = {26, 51, 153};
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 20; ++y)
      for (int x = 0; x < 40; ++x) psd += char(x < 20 ? left[c] : right[c]);
  return psd;
}

// OpenImageIO 2.4 writes 16-bit PNM wrongly (8-bit data in it), so this one is by hand.
TEST_F(OiioFormats, SixteenBitPpmIsRead) {
  std::string ppm = "P6\n40 20\n65535\n";
  const int left[3] = {52428, 26214, 13107}, right[3] = {6554, 13107, 39321};  // 0.8 0.4 0.2...
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 40; ++x)
      for (int c = 0; c < 3; ++c) {
        const int v = x < 20 ? left[c] : right[c];
        ppm += char(v >> 8), ppm += char(v & 255);
      }
  EXPECT_EQ(probe_image(ppm).bits, 16);
  expect_halves(decode_image(ppm), false, 1, "ppm");
}

TEST_F(OiioFormats, PsdIsRead) {
  const std::string psd = psd_halves();
  EXPECT_EQ(sniff_format(psd), ImageFormat::psd);
  expect_halves(decode_image(psd), false, 1, "psd");
  try {
    decode_image(psd.substr(0, psd.size() / 2));
    ADD_FAILURE() << "half a PSD decoded";
  } catch (const Error& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("truncated or corrupt PSD: ")) << e.what();
  }
}

TEST_F(OiioFormats, EightBitOutputsRefuseSixteenBits) {
  EncodeSpec spec;
  spec.format = ImageFormat::jpeg;
  spec.bit_depth = 16;
  try {
    encode_image(testing::solid(2, 2, {1, 2, 3}), spec);
    ADD_FAILURE() << "jpeg at 16 bits was written";
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
    EXPECT_TRUE(std::string(e.what()).starts_with("cannot encode jpeg at 16 bits: ")) << e.what();
  }
}

// A phone's portrait photo: the sensor's landscape rows with EXIF orientation 6 (turn 90
// degrees clockwise). Stored 40x20 with a red left half; upright it is 20x40, red on top.
TEST_F(OiioFormats, JpegOrientationSixComesOutUpright) {
  const std::string jpeg = make("portrait.jpg",
                                "--create 40x20 3 --fill:color=1,0,0 0,0,20,20 "
                                "--fill:color=0,0,1 20,0,40,20 -d uint8 --attrib Orientation 6");
  const ImageInfo info = probe_image(jpeg);
  EXPECT_EQ(info.width, 20);
  EXPECT_EQ(info.height, 40);
  const Image upright = decode_image(jpeg);
  ASSERT_EQ(upright.width, 20);
  ASSERT_EQ(upright.height, 40);
  EXPECT_GT(upright.at(10, 5)[0], 200);  // top: red
  EXPECT_LT(upright.at(10, 5)[2], 60);
  EXPECT_GT(upright.at(10, 35)[2], 200);  // bottom: blue
  // orientation: keep: the pixels as stored.
  DecodeLimits keep;
  keep.apply_orientation = false;
  EXPECT_EQ(probe_image(jpeg, keep).width, 40);
  const Image stored = decode_image(jpeg, keep);
  ASSERT_EQ(stored.width, 40);
  EXPECT_GT(stored.at(5, 10)[0], 200);  // left: red
  // The thumbnail fast path (decoding at 1/2 scale) turns the scaled pixels the same way.
  const Image half = decode_image(jpeg, {}, 10, 20);
  EXPECT_EQ(half.width, 10);
  EXPECT_EQ(half.height, 20);
}

TEST_F(OiioFormats, OrientationOfOtherFormatsIsAppliedByTheModule) {
  const std::string tiff = halves("turned.tif", "uint8", "--attrib Orientation 8");
  const Image upright = decode_image(tiff);
  EXPECT_EQ(upright.width, 20);
  EXPECT_EQ(upright.height, 40);
}

TEST_F(OiioFormats, DamagedFilesAreRefusedInOneLine) {
  const std::string exr = halves("cut.exr", "half");
  for (std::size_t n : {std::size_t(4), std::size_t(40), exr.size() / 2}) {
    try {
      decode_image(exr.substr(0, n));
      ADD_FAILURE() << "a cut EXR of " << n << " bytes decoded";
    } catch (const Error& e) {
      EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
      EXPECT_TRUE(std::string(e.what()).starts_with("truncated or corrupt EXR: ")) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
}

// Found by the image fuzzer: OpenEXR allocates a header attribute at its declared size
// before reading it (1.6 GB for this 600-byte file); sizes are checked against the file.
TEST(OiioRegressions, ExrAttributeLargerThanTheFileIsRefusedBeforeAllocating) {
  const std::string exr =
      testing::read_file(std::string(IMAGEPIPE_SOURCE_DIR) +
                         "/tests/fuzz/corpus/image/exr_attribute_size_regression.exr");
  try {
    probe_image(exr);
    ADD_FAILURE() << "probed";
  } catch (const Error& e) {
    EXPECT_STREQ(
        e.what(),
        "truncated or corrupt EXR: a header attribute declares 1660944384 bytes, more than "
        "the file holds");
  }
}

// Found by the image fuzzer: a PSD whose reader repeats one error thousands of times; the
// module joined the lines in place (quadratic). The message is now cut and one line.
TEST(OiioRegressions, RepeatedReaderErrorsAreOneShortLine) {
  const std::string psd = testing::read_file(std::string(IMAGEPIPE_SOURCE_DIR) +
                                             "/tests/fuzz/corpus/image/long_error_regression.bin");
  const auto start = std::chrono::steady_clock::now();
  try {
    decode_image(psd);
    ADD_FAILURE() << "decoded";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_TRUE(message.starts_with("truncated or corrupt PSD: ")) << message;
    EXPECT_LE(message.size(), 440u);
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

// Found by the image fuzzer: OpenImageIO's PSD reader sized a buffer by a section's
// declared length (3.7 GB) before reading it; lengths are checked against the file first.
TEST(OiioRegressions, PsdSectionLargerThanTheFileIsRefusedBeforeAllocating) {
  const std::string psd = testing::read_file(std::string(IMAGEPIPE_SOURCE_DIR) +
                                             "/tests/fuzz/corpus/image/psd_section_size_regression.psd");
  try {
    probe_image(psd);
    ADD_FAILURE() << "probed";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "truncated or corrupt PSD: a section declares 3741319167 bytes, more than the file "
                 "holds");
  }
}

}  // namespace
}  // namespace imagepipe
