// OpenImageIO's readers in imagepipe-decode: pixels come back as decoded in-process did,
// and what the helper does wrong (runs out of its memory limit, crashes, hangs, is not
// there) fails that image with words saying so, while the next image decodes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "imagepipe/error.hpp"
#include "imagepipe/image.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Sets an environment variable and the decoder's limits for one test.
class DecoderProcess : public ::testing::Test {
 protected:
  void TearDown() override {
    ::unsetenv("IMAGEPIPE_DECODER");
    set_decoder_limits(DecoderLimits{});
    fs::remove_all(dir_);
  }
  // An executable script standing in for imagepipe-decode.
  std::string fake_helper(const std::string& body) {
    fs::create_directories(dir_);
    const fs::path path = dir_ / "fake-decode";
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    ::chmod(path.c_str(), 0755);
    return path.string();
  }
  fs::path dir_ = fs::temp_directory_path() / ("imagepipe-decoder-" + std::to_string(::getpid()));
};

Image quarters() {
  Image image(32, 16, 3);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 32; ++x) {
      auto* p = image.at(x, y);
      p[0] = x < 16 ? 200 : 10, p[1] = y < 8 ? 100 : 50, p[2] = 30;
    }
  return image;
}

TEST_F(DecoderProcess, ReadsThroughTheHelper) {
  const Image source = quarters();
  for (const ImageFormat format : {ImageFormat::bmp, ImageFormat::tga, ImageFormat::pnm}) {
    const std::string bytes = testing::encode(source, format);
    const ImageInfo info = probe_image(bytes);
    EXPECT_EQ(info.width, 32);
    EXPECT_EQ(info.height, 16);
    const Image decoded = decode_image(bytes);
    EXPECT_EQ(testing::max_difference(decoded, source), 0) << to_string(format);
  }
}

TEST_F(DecoderProcess, AReaderPastTheMemoryLimitFailsAndTheNextImageDecodes) {
  // 20 bytes that declare 8000x8000 RGB: the reader sizes its 192 MB buffer from that
  // before reading a pixel. (OpenImageIO needs about 64 MB for any read: the limit's floor.)
  const std::string bytes = std::string("P6\n8000 8000\n255\n") + std::string(16, '\x7f');
  DecoderLimits limits;
  limits.memory_bytes = 128ull << 20;
  set_decoder_limits(limits);
  EXPECT_EQ(error_of([&] { decode_image(bytes); }),
            "cannot decode this PNM image: not enough memory to decode it (limit 128 MB)");
  const Image small = decode_image(testing::encode(quarters(), ImageFormat::tga));
  EXPECT_EQ(testing::max_difference(small, quarters()), 0);
  // Under the default limit the buffer is allocated, and the file is found short.
  set_decoder_limits(DecoderLimits{});
  EXPECT_THAT(error_of([&] { decode_image(bytes); }),
              ::testing::StartsWith("truncated or corrupt PNM: "));
}

TEST_F(DecoderProcess, AHelperThatCrashesFailsThatImage) {
  const std::string bytes = testing::encode(quarters(), ImageFormat::bmp);
  ::setenv("IMAGEPIPE_DECODER", fake_helper("kill -SEGV $$").c_str(), 1);
  EXPECT_EQ(error_of([&] { decode_image(bytes); }),
            "cannot decode this BMP image: the decoder crashed on it (it was killed by SIGSEGV)");
  ::unsetenv("IMAGEPIPE_DECODER");
  EXPECT_EQ(decode_image(bytes).width, 32);
}

TEST_F(DecoderProcess, AHelperThatHangsIsStopped) {
  const std::string bytes = testing::encode(quarters(), ImageFormat::bmp);
  ::setenv("IMAGEPIPE_DECODER", fake_helper("exec sleep 30").c_str(), 1);
  DecoderLimits limits;
  limits.timeout = 300ms;
  set_decoder_limits(limits);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(error_of([&] { decode_image(bytes); }),
            "cannot decode this BMP image: the decoder took over 300 ms on it and was stopped");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(DecoderProcess, AMissingHelperIsNamed) {
  const std::string bytes = testing::encode(quarters(), ImageFormat::bmp);
  ::setenv("IMAGEPIPE_DECODER", "/nonexistent/imagepipe-decode", 1);
  EXPECT_EQ(error_of([&] { decode_image(bytes); }),
            "cannot read bmp images on this host: cannot start /nonexistent/imagepipe-decode: "
            "No such file or directory");
}

}  // namespace
}  // namespace imagepipe
