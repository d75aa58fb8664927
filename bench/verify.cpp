// What reading an image whole costs the daemon's accept path: probe_image (the header),
// verify_image (every byte: JPEG at 1/8 scale, PNG a row at a time) and a full
// decode_image, on photo-like JPEGs and PNGs from about 100 KB to a 12-megapixel photo.
//
//   bench_verify [RUNS] [DIR]  (RUNS default 31: the median of RUNS per image and step;
//                              with DIR, each image is also written there, e.g. for
//                              IMAGE=DIR/jpeg-560x400.jpg bench/serve_wrk.sh)
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "bench_common.hpp"
#include "imagepipe/image.hpp"

namespace {

using namespace imagepipe;

// Gradients with grain and a few blotches: compresses like a photograph, not a drawing.
Image photo_like(int width, int height) {
  Image image(width, height, 3);
  std::uint32_t seed = 12345;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      seed = seed * 1664525u + 1013904223u;
      const int grain = int(seed >> 27) - 16;
      const bool blotch = ((x / 37) ^ (y / 29)) % 5 == 0;
      std::uint8_t* p = image.at(x, y);
      p[0] = std::uint8_t(std::clamp(x * 255 / width + grain, 0, 255));
      p[1] = std::uint8_t(std::clamp(y * 255 / height + grain + (blotch ? 40 : 0), 0, 255));
      p[2] = std::uint8_t(std::clamp(128 + grain - (blotch ? 50 : 0), 0, 255));
    }
  return image;
}

double median_us(int runs, const std::function<void()>& step) {
  std::vector<double> times;
  bench::Stopwatch watch;
  for (int i = 0; i < runs; ++i) {
    watch.lap_ms();
    step();
    times.push_back(watch.lap_ms() * 1000);
  }
  return bench::median(times);
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::stoi(argv[1]) : 31;
  struct Case {
    ImageFormat format;
    int width, height;
  };
  const std::string dir = argc > 2 ? argv[2] : "";
  // About 75 KB (a 100 KB request body once in base64), a 1-megapixel image, a photo.
  const Case cases[] = {{ImageFormat::jpeg, 560, 400},
                        {ImageFormat::jpeg, 1024, 1024},
                        {ImageFormat::jpeg, 4000, 3000},
                        {ImageFormat::png, 185, 185},
                        {ImageFormat::png, 1024, 1024}};
  std::printf("%-16s %10s %10s %11s %11s\n", "image", "bytes", "probe us", "verify us",
              "decode us");
  for (const auto& c : cases) {
    const std::string bytes =
        encode_image(photo_like(c.width, c.height), EncodeSpec{.format = c.format, .quality = 90});
    const std::string name = std::string(to_string(c.format)) + "-" + std::to_string(c.width) +
                             "x" + std::to_string(c.height);
    if (!dir.empty())
      bench::write_file(dir + "/" + name + "." + std::string(file_extension(c.format)), bytes);
    const double probe = median_us(runs, [&] { probe_image(bytes); });
    const double verify = median_us(runs, [&] { verify_image(bytes); });
    const double decode = median_us(runs, [&] { decode_image(bytes); });
    std::printf("%-16s %10zu %10.1f %11.1f %11.1f\n", name.c_str(), bytes.size(), probe, verify,
                decode);
  }
}
