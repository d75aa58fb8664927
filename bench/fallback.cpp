// The seeds' fallback as a pipeline runs it: the `local` provider (decode the JPEG,
// invert RGB, stamp the semi-transparent red watermark) on a one-thread CPU pool, then
// the sink's encode with the PNG settings the provider asked for.
//
//   bench_fallback [--runs N] [--out DIR] INPUT...
//
// Prints one line per input (median of N runs) and a closing RESULT line for scripts.
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <vector>

#include <boost/asio/use_future.hpp>

#include "bench_common.hpp"
#include "imagepipe/registry.hpp"

using namespace imagepipe;

int main(int argc, char** argv) {
  int runs = 5;
  std::string out_dir;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--out" && i + 1 < argc)
      out_dir = argv[++i];
    else
      inputs.push_back(arg);
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: bench_fallback [--runs N] [--out DIR] INPUT...\n");
    return 2;
  }

  PluginRegistry registry;
  register_builtin_plugins(registry);
  const RegisteredPlugin* local = registry.find(PluginKind::provider, "local");
  if (!local) {
    std::fprintf(stderr, "provider local is not built in\n");
    return 1;
  }
  const OptionCheck options = check_options(
      *local->descriptor,
      {{"operation", "invert"}, {"watermark", "DEMO - FALLBACK (OpenAI billing limit)"}});
  asio::io_context io;
  asio::thread_pool pool(1);
  CpuPool cpu(pool);
  Host host;
  host.cpu = &cpu;
  auto provider =
      std::get<ProviderFactory>(local->descriptor->factory)(PluginArgs{host, options.options});

  std::vector<double> medians;
  double total_bytes = 0;
  for (const std::string& path : inputs) {
    const std::string input = bench::read_file(path);
    std::vector<double> times;
    std::string png;
    for (int run = 0; run < runs; ++run) {
      bench::Stopwatch watch;
      ProviderRequest request;
      request.images.push_back(Artifact::from_bytes(input));
      auto pending = asio::co_spawn(io, provider->run(std::move(request)), asio::use_future);
      io.restart();
      io.run();
      const ProviderResult result = pending.get();
      const Artifact& image = result.images.at(0);
      png = encode_image(*image.pixels, image.encoding.value_or(EncodeSpec{}));
      times.push_back(watch.lap_ms());
    }
    medians.push_back(bench::median(times));
    total_bytes += double(png.size());
    std::printf("%-40s %8.1f ms  %9zu bytes\n", path.c_str(), medians.back(), png.size());
    if (!out_dir.empty()) {
      const std::string name = path.substr(path.find_last_of('/') + 1);
      bench::write_file(out_dir + "/" + name.substr(0, name.find_last_of('.')) + ".png", png);
    }
  }
  pool.join();
  std::printf("RESULT images=%zu median_ms=%.1f mean_png_bytes=%.0f\n", inputs.size(),
              bench::median(medians), total_bytes / double(inputs.size()));
  return 0;
}
