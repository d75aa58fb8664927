// The provider chain's cost: a batch through a provider that takes a fixed time per call
// (is the concurrency used fully?), the engine's own overhead per provider call (the same
// items with and without an instant provider in the chain), the cost of one more step
// (one instant provider step against five), and a two-step job's wall time against the
// sum of its steps' provider latencies (the avatar's shape).
//   bench_providers [items=200] [delay_ms=2000] [concurrency=16] [overhead_items=2000]
#include <cstdio>
#include <filesystem>
#include <map>

#include "bench_common.hpp"
#include "imagepipe/engine.hpp"
#include "imagepipe/plugin.hpp"
#include "imagepipe/registry.hpp"

namespace imagepipe::bench {
namespace {

namespace fs = std::filesystem;

// Waits `delay_ms` on the host clock, then answers with the input image unchanged.
class SleepProvider final : public Provider {
 public:
  explicit SleepProvider(const PluginArgs& args)
      : host_(args.host), delay_(args.options.value("delay_ms", 0)) {}
  Task<ProviderResult> run(ProviderRequest request) override {
    if (delay_ > 0) co_await host_.clock->sleep_for(std::chrono::milliseconds(delay_));
    ProviderResult result;
    result.images = std::move(request.images);
    co_return result;
  }

 private:
  const Host& host_;
  int delay_;
};

const PluginDescriptor& sleep_descriptor() {
  static const PluginDescriptor d = [] {
    PluginDescriptor d;
    d.name = "bench-sleep";
    d.version = "0.0.1";
    d.summary = "Waits, then echoes its input.";
    d.options_schema = {{"type", "object"}, {"properties", {{"delay_ms", {{"type", "integer"}}}}}};
    d.factory =
        ProviderFactory{[](const PluginArgs& a) { return std::make_unique<SleepProvider>(a); }};
    return d;
  }();
  return d;
}

Task<void> run_job(Engine& engine, JobResult& out) {
  const JobRequest request;
  const std::string id = new_job_id();
  out = co_await engine.run(request, id);
}

// Runs one job of `yaml` and returns its wall time in seconds.
double run_seconds(const std::string& yaml, const PluginRegistry& registry, std::size_t expect) {
  asio::io_context io;
  asio::thread_pool pool(2);
  CpuPool cpu(pool);
  SystemClock clock;
  Metrics metrics;
  Host host;
  host.log = std::make_shared<spdlog::logger>("bench");
  host.clock = &clock;
  host.cpu = &cpu;
  host.metrics = &metrics;
  auto pipeline =
      std::make_shared<const Pipeline>(load_pipeline_text(yaml, "bench.yaml", registry));
  Engine engine(pipeline, host);
  JobResult result;
  Stopwatch watch;
  asio::co_spawn(io, run_job(engine, result), asio::detached);
  io.run();
  const double seconds = watch.lap_ms() / 1000;
  pool.join();
  if (result.items.size() != expect || result.status != "completed")
    throw std::runtime_error("job " + result.status + " with " +
                             std::to_string(result.items.size()) + " items");
  return seconds;
}

std::string batch_yaml(const fs::path& dir, int concurrency, const std::string& provider) {
  return "name: bench\nconcurrency: " + std::to_string(concurrency) +
         "\nsource: {from: files, paths: [\"" + (dir / "*.png").string() + "\"]}\n" + provider +
         "sink: {inline: true}\n";
}

fs::path make_images(std::size_t count) {
  const fs::path dir = fs::temp_directory_path() / ("imagepipe-bench-" + new_job_id());
  fs::create_directories(dir);
  Image image(8, 8, 3);
  const std::string png = encode_image(image, EncodeSpec{});
  for (std::size_t i = 0; i < count; ++i)
    write_file((dir / ("img" + std::to_string(i) + ".png")).string(), png);
  return dir;
}

// One folder of `count` images per count, made once and removed at the end.
std::map<std::size_t, fs::path>& image_sets() {
  static std::map<std::size_t, fs::path> sets;
  return sets;
}

fs::path many_again(std::size_t count) {
  auto& sets = image_sets();
  if (!sets.count(count)) sets[count] = make_images(count);
  return sets[count];
}

void cleanup_many() {
  for (auto& [count, dir] : image_sets()) fs::remove_all(dir);
}

}  // namespace
}  // namespace imagepipe::bench

int main(int argc, char** argv) {
  using namespace imagepipe;
  using namespace imagepipe::bench;
  const std::size_t items = argc > 1 ? std::stoul(argv[1]) : 200;
  const int delay_ms = argc > 2 ? std::stoi(argv[2]) : 2000;
  const int concurrency = argc > 3 ? std::stoi(argv[3]) : 16;
  const std::size_t overhead_items = argc > 4 ? std::stoul(argv[4]) : 2000;
  PluginRegistry registry;
  register_builtin_plugins(registry);
  registry.add(sleep_descriptor(), "bench");

  const auto batch = make_images(items);
  const std::string slow =
      "provider: {use: bench-sleep, with: {delay_ms: " + std::to_string(delay_ms) + "}}\n";
  const double wall = run_seconds(batch_yaml(batch, concurrency, slow), registry, items);
  const double ideal = double(items) * delay_ms / 1000.0 / concurrency;
  std::printf("batch: %zu items x %d ms, concurrency %d: %.2f s (ideal %.2f s, +%.1f%%)\n", items,
              delay_ms, concurrency, wall, ideal, (wall / ideal - 1) * 100);
  fs::remove_all(batch);

  const auto many = many_again(overhead_items);
  std::vector<double> with, without;
  for (int run = 0; run < 5; ++run) {
    with.push_back(run_seconds(batch_yaml(many, concurrency, "provider: {use: bench-sleep}\n"),
                               registry, overhead_items));
    without.push_back(run_seconds(batch_yaml(many, concurrency, ""), registry, overhead_items));
  }
  const double per_item_with = median(with) / double(overhead_items) * 1e3;
  const double per_item_without = median(without) / double(overhead_items) * 1e3;
  std::printf(
      "overhead: %.3f ms per item with an instant provider, %.3f ms without: %.3f ms per provider "
      "call\n",
      per_item_with, per_item_without, per_item_with - per_item_without);

  // Steps: one instant provider step against five chained ones (each takes the previous
  // one's image), so the difference is four steps' engine work per item.
  auto steps_yaml = [](int count) {
    std::string yaml = "steps:\n";
    for (int s = 0; s < count; ++s)
      yaml += "  - name: s" + std::to_string(s) + "\n    provider: {use: bench-sleep}\n";
    return yaml;
  };
  std::vector<double> one_step, five_steps;
  for (int run = 0; run < 5; ++run) {
    one_step.push_back(run_seconds(batch_yaml(many_again(overhead_items), concurrency, steps_yaml(1)),
                                   registry, overhead_items));
    five_steps.push_back(run_seconds(batch_yaml(many_again(overhead_items), concurrency, steps_yaml(5)),
                                     registry, overhead_items));
  }
  const double per_step =
      (median(five_steps) - median(one_step)) / 4.0 / double(overhead_items) * 1e3;
  std::printf("steps: %.4f ms of engine work per step per item (1 step %.3f s, 5 steps %.3f s, "
              "%zu items)\n",
              per_step, median(one_step), median(five_steps), overhead_items);

  // The avatar's shape: a 300 ms generation, then a 500 ms edit, per item.
  const double two_steps = run_seconds(
      batch_yaml(many_again(1), 1,
                 "steps:\n  - name: base\n    provider: {use: bench-sleep, with: {delay_ms: "
                 "300}}\n  - name: grid\n    provider: {use: bench-sleep, with: {delay_ms: "
                 "500}}\n  - name: tiles\n    transforms: [{use: grid-split, with: {rows: 2, "
                 "cols: 2}}]\n"),
      registry, 1);
  std::printf("two provider steps of 300 + 500 ms and a split: %.1f ms (+%.1f%% over 800 ms)\n",
              two_steps * 1e3, (two_steps / 0.8 - 1) * 100);
  cleanup_many();
  return 0;
}
