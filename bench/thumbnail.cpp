// A thumbnail as the `thumbnails` pipeline makes it: probe, decode with the resize
// transform's size hint (JPEG scaled in the IDCT), lanczos3 resize to fit SIZE x SIZE,
// JPEG encode.
//
//   bench_thumbnail [--runs N] [--size S] [--quality Q] [--out FILE] INPUT
//
// Prints the median of N runs, per stage, and a closing RESULT line for scripts.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "imagepipe/registry.hpp"

using namespace imagepipe;

int main(int argc, char** argv) {
  int runs = 9, size = 1024, quality = 85;
  std::string out, input_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--size" && i + 1 < argc)
      size = std::atoi(argv[++i]);
    else if (arg == "--quality" && i + 1 < argc)
      quality = std::atoi(argv[++i]);
    else if (arg == "--out" && i + 1 < argc)
      out = argv[++i];
    else
      input_path = arg;
  }
  if (input_path.empty()) {
    std::fprintf(stderr,
                 "usage: bench_thumbnail [--runs N] [--size S] [--quality Q] [--out FILE] INPUT\n");
    return 2;
  }

  PluginRegistry registry;
  register_builtin_plugins(registry);
  const RegisteredPlugin* resize = registry.find(PluginKind::transform, "resize");
  if (!resize) {
    std::fprintf(stderr, "transform resize is not built in\n");
    return 1;
  }
  const OptionCheck options =
      check_options(*resize->descriptor, {{"mode", "fit"}, {"width", size}, {"height", size}});
  const Host host;
  auto transform =
      std::get<TransformFactory>(resize->descriptor->factory)(PluginArgs{host, options.options});

  const std::string input = bench::read_file(input_path);
  std::vector<double> decode_ms, resize_ms, encode_ms, total_ms;
  std::string jpeg;
  int decoded_w = 0, decoded_h = 0, out_w = 0, out_h = 0;
  for (int run = 0; run < runs; ++run) {
    bench::Stopwatch total, stage;
    const auto [min_w, min_h] = transform->min_decode_size(probe_image(input));
    Image decoded = decode_image(input, {}, min_w, min_h);
    decode_ms.push_back(stage.lap_ms());
    decoded_w = decoded.width, decoded_h = decoded.height;
    ItemContext item;
    std::vector<Artifact> result =
        transform->apply(Artifact::from_pixels(std::move(decoded)), item);
    resize_ms.push_back(stage.lap_ms());
    const Image& thumb = *result.at(0).pixels;
    out_w = thumb.width, out_h = thumb.height;
    jpeg = encode_image(thumb, {ImageFormat::jpeg, quality, 6, false});
    encode_ms.push_back(stage.lap_ms());
    total_ms.push_back(total.lap_ms());
  }
  if (!out.empty()) bench::write_file(out, jpeg);
  std::printf("%s -> %dx%d (decoded at %dx%d): decode %.1f ms, resize %.1f ms, encode %.1f ms\n",
              input_path.c_str(), out_w, out_h, decoded_w, decoded_h, bench::median(decode_ms),
              bench::median(resize_ms), bench::median(encode_ms));
  std::printf("RESULT median_ms=%.1f jpeg_bytes=%zu\n", bench::median(total_ms), jpeg.size());
  return 0;
}
