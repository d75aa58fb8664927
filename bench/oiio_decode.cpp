// What reading a file through imagepipe-decode (the helper process with its memory capped)
// costs over OpenImageIO in this process: the module called directly, then decode_image
// (probe and decode, two round trips to a warm helper), per image, and the helper's
// first start (OpenImageIO's libraries loaded once per helper).
//
//   bench_oiio_decode [--runs N] [--size S]
//
// Makes a SxS RGB gradient as TGA and BMP (no input files), prints the median of N runs.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "image/codecs.hpp"
#include "image/oiio_abi.h"
#include "imagepipe/image.hpp"

using namespace imagepipe;

namespace {

const ImagepipeOiioModule& module() {
  void* so = dlopen(codec::oiio_module_path().c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!so) throw std::runtime_error(dlerror());
  auto entry =
      reinterpret_cast<const ImagepipeOiioModule* (*)()>(dlsym(so, "imagepipe_oiio_module"));
  return *entry();
}

// One decode in this process, as libimagepipe made them before the helper.
void decode_here(const ImagepipeOiioModule& m, const char* format, const std::string& bytes) {
  std::vector<unsigned char> pixels;
  ImagepipeOiioSink sink{&pixels, [](void* c, std::size_t n) {
                           auto& v = *static_cast<std::vector<unsigned char>*>(c);
                           v.resize(n);
                           return v.data();
                         }};
  const ImagepipeOiioInput in{format, bytes.data(), bytes.size(), 1, 1ull << 30};
  ImagepipeOiioInfo info{};
  char error[512];
  if (m.decode(&in, &info, &sink, error, sizeof error) != 0) throw std::runtime_error(error);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 50, size = 512;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
    if (arg == "--size") size = std::atoi(argv[i + 1]);
  }
  Image image(size, size, 3);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      auto* p = image.at(x, y);
      p[0] = std::uint8_t(x), p[1] = std::uint8_t(y), p[2] = std::uint8_t(x ^ y);
    }
  bench::Stopwatch clock;
  (void)decode_image(encode_image(image, {.format = ImageFormat::tga}));
  const double first = clock.lap_ms();
  const auto& m = module();
  std::printf("helper's first request (start, OpenImageIO loaded): %.1f ms\n", first);
  for (const auto& [format, name] :
       {std::pair{ImageFormat::tga, "targa"}, {ImageFormat::bmp, "bmp"}}) {
    EncodeSpec spec;
    spec.format = format;
    const std::string bytes = encode_image(image, spec);
    std::vector<double> here, helper;
    decode_here(m, name, bytes);
    for (int r = 0; r < runs; ++r) {
      clock.lap_ms();
      decode_here(m, name, bytes);
      here.push_back(clock.lap_ms());
      (void)decode_image(bytes);
      helper.push_back(clock.lap_ms());
    }
    const double a = bench::median(here), b = bench::median(helper);
    std::printf("%dx%d %s: in process %.2f ms, through the helper %.2f ms (+%.2f ms)\n", size, size,
                std::string(to_string(format)).c_str(), a, b, b - a);
    std::printf("RESULT oiio_decode format=%s in_process_ms=%.3f helper_ms=%.3f\n",
                std::string(to_string(format)).c_str(), a, b);
  }
  return 0;
}
