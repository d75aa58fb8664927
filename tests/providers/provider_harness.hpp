// Runs pipelines in-process with a real HTTP client (to the fake upstream on loopback), a
// fake clock for backoff, polling and rate limits, and a logger whose lines tests can read.
#pragma once

#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "fakes/fake_upstream.hpp"
#include "imagepipe/engine.hpp"
#include "imagepipe/http_client.hpp"
#include "imagepipe/registry.hpp"
#include "support/engine_harness.hpp"

namespace imagepipe::testing {

class ProviderHarness {
 public:
  ProviderHarness();
  ~ProviderHarness();

  // Loads the YAML with `env` (FAKE_OPENAI, FAKE_ROOT, keys of the fake are added) and
  // runs one job.
  JobResult run(const std::string& yaml, JobRequest request = {},
                std::map<std::string, std::string> env = {});

  // Builds provider `name` from `with` (checked, defaults filled in) and runs one request:
  // for what a pipeline item cannot carry (several input images, a mask).
  ProviderResult call(const std::string& name, const nlohmann::json& with, ProviderRequest request);

  FakeUpstream& fake() { return fake_; }
  FakeClock& clock() { return clock_; }
  Metrics& metrics() { return metrics_; }
  std::string log_text() const { return log_stream_->str(); }
  // The fake clock's time (ms) at each HTTP send, in order: taken as the provider hands the
  // request to the client, before any I/O lets the fake clock move on.
  std::vector<long long> send_times() const;
  Host host();

 private:
  FakeUpstream fake_;
  asio::io_context io_;
  asio::thread_pool pool_{2};
  CpuPool cpu_{pool_};
  FakeClock clock_;
  Metrics metrics_;
  PluginRegistry registry_;
  std::shared_ptr<std::ostringstream> log_stream_ = std::make_shared<std::ostringstream>();
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<BeastHttpClient> http_;
  class StampingClient;
  std::unique_ptr<StampingClient> stamping_;
};

// A request whose body carries one image as base64 (source: {from: request, field: image}).
JobRequest image_request(const std::string& bytes, const std::string& prompt,
                         const std::string& filename = "photo.png");

// The decoded first output of an item.
Image output_image(const ItemResult& item, std::size_t n = 0);

}  // namespace imagepipe::testing
