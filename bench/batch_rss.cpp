// Peak memory of one large batch, run as the daemon runs it: a transform-only pipeline
// over OBJECTS small PNGs in local storage, listed a page at a time, each item's record
// written to a SQLite job store through the engine's item sink. Prints one JSON line:
// objects, processed, failed, objects written, item rows stored, seconds, the RSS before
// the job and the peak RSS (VmHWM) at its end. Run each size in its own process (the peak
// is per process): bench/run-batch-rss.sh does.
//
// Usage: bench_batch_rss OBJECTS DIR. DIR/in/batch holds the objects (made once: 16x16
// PNGs, reused by later runs of the same count), DIR/out the results, DIR/store the store.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "bench_common.hpp"
#include "imagepipe/engine.hpp"
#include "imagepipe/image.hpp"
#include "jobs/jobs.hpp"
#include "jobs/store_item_sink.hpp"
#include "process.hpp"

using namespace imagepipe;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A line of /proc/self/status ("VmHWM", "VmRSS") in MB.
double status_mb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  return 0;
}

void make_objects(const fs::path& dir, std::size_t count) {
  const auto marker = dir / "count";
  std::ifstream previous(marker);
  std::size_t made = 0;
  if (previous >> made && made == count) return;
  fs::remove_all(dir);
  fs::create_directories(dir / "batch");
  Image image(16, 16, 3);
  for (std::size_t i = 0; i < image.pixels.size(); ++i)
    image.pixels[i] = static_cast<std::uint8_t>(i * 7);
  const auto png = encode_image(image, EncodeSpec{ImageFormat::png});
  char name[32];
  for (std::size_t i = 0; i < count; ++i) {
    std::snprintf(name, sizeof name, "img%06zu.png", i);
    bench::write_file((dir / "batch" / name).string(), png);
  }
  std::ofstream(marker) << count;
}

std::string pipeline_yaml(const fs::path& dir, std::size_t count) {
  return "name: batch-rss\n"
         "source:\n"
         "  from: storage\n"
         "  use: local\n"
         "  with: {root: \"" +
         (dir / "in").string() +
         "\"}\n"
         "  prefix: batch/\n"
         "  max_items: " +
         std::to_string(count) +
         "\n"
         "transforms:\n"
         "  - use: resize\n"
         "    with: {mode: fit, width: 8, height: 8}\n"
         "  - use: encode\n"
         "    with: {format: png}\n"
         "sink:\n"
         "  use: local\n"
         "  with: {root: \"" +
         (dir / "out").string() +
         "\"}\n"
         "  key: \"${job.id}/${item.stem}.${output.ext}\"\n"
         "concurrency: 4\n"
         "limits: {max_items: " +
         std::to_string(count) + "}\n";
}

template <class T>
T run(asio::io_context& io, Task<T> task) {
  std::optional<T> result;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
    error = e;
    if (!e) result.emplace(std::move(v));
  });
  io.restart();
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

void run(asio::io_context& io, Task<void> task) {
  std::exception_ptr error;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) { error = e; });
  io.restart();
  io.run();
  if (error) std::rethrow_exception(error);
}

// A named coroutine, not a lambda: g++ 12 loses a coroutine lambda's captures. The request
// is named too: g++ 12 destroys an aggregate temporary inside a co_await expression twice.
Task<JobResult> run_job(Engine& engine, std::string id, ItemSink* items) {
  JobRequest request;
  co_return co_await engine.run(std::move(request), std::move(id), {}, items);
}

std::size_t stored_rows(asio::io_context& io, ItemStore& items, const std::string& id) {
  std::size_t rows = 0;
  std::optional<std::size_t> after;
  for (;;) {
    auto page = run(io, items.item_page(id, after, 1000));
    rows += page.items.size();
    if (!page.more) return rows;
    after = page.items.back().index;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: bench_batch_rss OBJECTS DIR\n";
    return 2;
  }
  const std::size_t count = std::stoul(argv[1]);
  const fs::path dir = argv[2];
  make_objects(dir / "in", count);
  fs::remove_all(dir / "out");
  fs::remove_all(dir / "store");

  runner::ProcessOptions options;
  options.log_level = spdlog::level::warn;
  runner::Process process(options);
  auto pipeline = std::make_shared<const Pipeline>(
      load_pipeline_text(pipeline_yaml(dir, count), "batch-rss.yaml", process.registry(), {}));
  Engine engine(pipeline, process.host());
  auto store = open_sqlite_job_store({dir / "store", Durability::process});

  NewJob job;
  job.id = new_job_id();
  job.pipeline = pipeline->name;
  run(process.io(), store->add(job));
  const auto claimed = run(process.io(), store->claim_next());
  const double rss_before = status_mb("VmRSS");

  bench::Stopwatch watch;
  StoreItemSink items(*store->item_store(), claimed->id);
  auto result = run(process.io(), run_job(engine, claimed->id, &items));
  run(process.io(), store->finish(result));
  const double seconds = watch.lap_ms() / 1000.0;
  const double peak = status_mb("VmHWM");  // before the checks below read anything back

  std::size_t written = 0;
  std::error_code none;  // a job that failed wrote nothing
  for (const auto& e : fs::directory_iterator(dir / "out" / claimed->id, none))
    written += e.is_regular_file();
  const auto metrics = result.metrics();
  const json report = {{"objects", count},
                       {"status", result.status},
                       {"processed", metrics["processed"]},
                       {"failed", metrics["failed"]},
                       {"written", written},
                       {"item_rows", stored_rows(process.io(), *store->item_store(), claimed->id)},
                       {"seconds", std::round(seconds * 10) / 10},
                       {"items_per_second", std::round(count / seconds)},
                       {"rss_before_job_mb", std::round(rss_before * 10) / 10},
                       {"peak_rss_mb", std::round(peak * 10) / 10}};
  std::cout << report.dump() << std::endl;
  return result.status == "completed" && written == count ? 0 : 1;
}
