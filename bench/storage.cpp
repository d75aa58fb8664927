// Upload/download throughput and listing time of a storage plugin, as the engine drives it
// (one request at a time per object, the host's HTTP client). Run by
// run-storage-bench.sh against s3rver and Azurite, next to the aws CLI.
//
//   bench_storage PLUGIN OPTIONS_JSON SIZE_MB RUNS      -> put/get MB/s (median)
//   bench_storage PLUGIN OPTIONS_JSON --list N PREFIX   -> put N tiny keys, time the listing
#include <spdlog/sinks/null_sink.h>
#include <boost/asio/use_future.hpp>

#include <iostream>
#include <random>
#include <thread>

#include "bench_common.hpp"
#include "imagepipe/http_client.hpp"
#include "imagepipe/registry.hpp"

using namespace imagepipe;
using nlohmann::json;

namespace {

struct BenchHost {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{asio::make_work_guard(io)};
  asio::thread_pool pool{2};
  CpuPool cpu{pool};
  SystemClock clock;
  BeastHttpClient http{io.get_executor()};
  PluginRegistry registry;
  Host host;
  std::thread thread;

  BenchHost() {
    register_builtin_plugins(registry);
    host.log =
        std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
    host.clock = &clock;
    host.cpu = &cpu;
    host.http = &http;
    thread = std::thread([this] { io.run(); });
  }
  ~BenchHost() {
    io.stop();
    thread.join();
    pool.join();
  }
  std::unique_ptr<Storage> make(const std::string& name, const json& with) {
    const auto* plugin = registry.find(PluginKind::storage, name);
    if (!plugin) throw std::runtime_error("no storage plugin " + name);
    auto checked = check_options(*plugin->descriptor, with);
    if (!checked.ok()) throw std::runtime_error(checked.issues[0].message);
    PluginArgs args{host, checked.options};
    return std::get<StorageFactory>(plugin->descriptor->factory)(args);
  }
  template <class T>
  T run(Task<T> t) {
    return asio::co_spawn(io, std::move(t), asio::use_future).get();
  }
  void run(Task<void> t) { asio::co_spawn(io, std::move(t), asio::use_future).get(); }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: bench_storage PLUGIN OPTIONS_JSON SIZE_MB RUNS | PLUGIN OPTIONS_JSON "
                 "--list N PREFIX\n";
    return 2;
  }
  BenchHost h;
  auto storage = h.make(argv[1], json::parse(argv[2]));
  if (std::string(argv[3]) == "--list") {
    const int n = std::stoi(argv[4]);
    const std::string prefix = argc > 5 ? argv[5] : "list/";
    auto one = std::make_shared<const std::string>("x");
    for (int start = 0; start < n; start += 64) {
      std::vector<std::future<ObjectInfo>> batch;
      for (int i = start; i < std::min(n, start + 64); ++i) {
        char key[64];
        std::snprintf(key, sizeof key, "%s%05d", prefix.c_str(), i);
        batch.push_back(asio::co_spawn(h.io, storage->put(key, one, {}), asio::use_future));
      }
      for (auto& f : batch) f.get();
    }
    bench::Stopwatch sw;
    std::size_t count = 0;
    int pages = 0;
    std::string token;
    do {
      auto page = h.run(storage->list(prefix, token, 1000));
      count += page.objects.size();
      token = page.next_token;
      ++pages;
    } while (!token.empty());
    std::printf("%s list %zu keys in %d pages: %.0f ms\n", argv[1], count, pages, sw.lap_ms());
    return count == static_cast<std::size_t>(n) ? 0 : 1;
  }
  const std::size_t bytes = static_cast<std::size_t>(std::stod(argv[3]) * 1024 * 1024);
  const int runs = std::stoi(argv[4]);
  std::mt19937 rng(1);
  auto data = std::make_shared<std::string>(bytes, '\0');
  for (auto& c : *data) c = static_cast<char>(rng());
  std::shared_ptr<const std::string> payload = data;
  std::vector<double> put_ms, get_ms;
  for (int r = 0; r < runs; ++r) {
    const std::string key = "bench/" + std::string(argv[3]) + "mb-" + std::to_string(r) + ".bin";
    bench::Stopwatch sw;
    h.run(storage->put(key, payload, {"application/octet-stream", {}}));
    put_ms.push_back(sw.lap_ms());
    auto back = h.run(storage->get(key));
    get_ms.push_back(sw.lap_ms());
    if (back.size() != bytes) throw std::runtime_error("short read");
  }
  const double mb = static_cast<double>(bytes) / (1024.0 * 1024.0);
  const double put = bench::median(put_ms), get = bench::median(get_ms);
  std::printf("%s %s MB: upload %.1f ms (%.1f MB/s), download %.1f ms (%.1f MB/s), median of %d\n",
              argv[1], argv[3], put, mb / (put / 1000), get, mb / (get / 1000), runs);
  return 0;
}
