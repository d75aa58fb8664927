// Runs pipelines in-process for tests: a real io_context, CPU pool and plugin registry
// (built-ins plus the scripted test provider), and an optional fake clock.
//
//   EngineHarness h;
//   auto job = h.run(R"(name: t
//   source: {from: prompt}
//   provider: {use: test-script, with: {fail: [billing_limit]}}
//   )");
//   EXPECT_EQ(job.status, "failed");
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "imagepipe/engine.hpp"
#include "imagepipe/registry.hpp"
#include "imagepipe/testing/virtual_clock.hpp"

namespace imagepipe::testing {

// The SDK's virtual clock (imagepipe::testing), under the name these tests grew up with.
using FakeClock = VirtualClock;

// Provider `test-script`: per call, fails with the next class of `fail` (then succeeds),
// echoing its first input image or a solid PNG. Counts calls and peak concurrency.
struct ScriptStats {
  std::atomic<int> calls{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> peak_in_flight{0};
  std::mutex mu;
  std::vector<std::string> prompts;
  std::vector<nlohmann::json> params;
  std::vector<std::size_t> image_counts;  // input images per call
};
ScriptStats& script_stats();  // reset by EngineHarness's constructor
const PluginDescriptor& script_provider_descriptor();

class EngineHarness {
 public:
  explicit EngineHarness(bool fake_clock = true, int cpu_threads = 2);
  ~EngineHarness();

  // Loads YAML text (env from `env`) and runs one job; rethrows PipelineError.
  JobResult run(const std::string& yaml, JobRequest request = {},
                const std::map<std::string, std::string>& env = {}, ItemSink* items = nullptr);
  // Also returns what the notifiers would see.
  nlohmann::json last_scope() const { return last_scope_; }

  PluginRegistry& registry() { return registry_; }
  FakeClock& fake_clock() { return fake_clock_; }
  Metrics& metrics() { return metrics_; }
  Host host();

 private:
  asio::io_context io_;
  asio::thread_pool pool_;
  CpuPool cpu_;
  FakeClock fake_clock_;
  SystemClock system_clock_;
  bool use_fake_;
  Metrics metrics_;
  PluginRegistry registry_;
  std::shared_ptr<spdlog::logger> log_;
  nlohmann::json last_scope_;
};

}  // namespace imagepipe::testing
