#include "support/engine_harness.hpp"

#include <spdlog/sinks/null_sink.h>

#include "imagepipe/pipeline.hpp"

namespace imagepipe::testing {

using namespace std::chrono;

namespace {

class ScriptProvider final : public Provider {
 public:
  explicit ScriptProvider(const PluginArgs& args) : host_(args.host), options_(args.options) {}

  Task<ProviderResult> run(ProviderRequest request) override {
    auto& stats = script_stats();
    const int call = stats.calls++;
    const int now_in_flight = ++stats.in_flight;
    int peak = stats.peak_in_flight.load();
    while (now_in_flight > peak &&
           !stats.peak_in_flight.compare_exchange_weak(peak, now_in_flight)) {
    }
    {
      std::lock_guard lock(stats.mu);
      stats.prompts.push_back(request.prompt);
      stats.params.push_back(request.params);
      stats.image_counts.push_back(request.images.size());
    }
    if (auto delay = options_.value("delay_ms", 0); delay > 0)
      co_await host_.clock->sleep_for(milliseconds(delay));
    --stats.in_flight;
    const auto& fail = options_.value("fail", nlohmann::json::array());
    const bool fail_always = options_.value("fail_always", false);
    if (!fail.empty() && (fail_always || call < static_cast<int>(fail.size()))) {
      auto name = fail[fail_always ? call % fail.size() : call].get<std::string>();
      std::optional<milliseconds> retry_after;
      if (options_.contains("retry_after_ms"))
        retry_after = milliseconds(options_["retry_after_ms"].get<int>());
      throw Error(*error_class_from_string(name), "scripted " + name + " (request id req_123)",
                  retry_after);
    }
    ProviderResult result;
    if (!request.images.empty()) {
      result.images.push_back(request.images.front());
    } else {
      const int side = options_.value("side", 8);
      Image image(side, side, 3);
      std::fill(image.pixels.begin(), image.pixels.end(), std::uint8_t{200});
      auto artifact = Artifact::from_pixels(std::move(image));
      artifact.encoding = EncodeSpec{};
      result.images.push_back(std::move(artifact));
    }
    result.usage = {{"calls", 1}};
    result.metadata = {{"script_call", call}};
    co_return result;
  }

 private:
  const Host& host_;
  nlohmann::json options_;
};

}  // namespace

ScriptStats& script_stats() {
  static ScriptStats stats;
  return stats;
}

const PluginDescriptor& script_provider_descriptor() {
  static const PluginDescriptor d = [] {
    PluginDescriptor d;
    d.name = "test-script";
    d.version = "0.0.1";
    d.summary = "Scripted provider for engine tests.";
    d.options_schema = {{"type", "object"},
                        {"additionalProperties", false},
                        {"properties",
                         {{"fail", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                          {"fail_always", {{"type", "boolean"}}},
                          {"retry_after_ms", {{"type", "integer"}}},
                          {"delay_ms", {{"type", "integer"}}},
                          {"side", {{"type", "integer"}}},
                          {"api_key", {{"type", "string"}, {"writeOnly", true}}}}}};
    d.factory = ProviderFactory{
        [](const PluginArgs& args) { return std::make_unique<ScriptProvider>(args); }};
    return d;
  }();
  return d;
}

EngineHarness::EngineHarness(bool fake_clock, int cpu_threads)
    : pool_(static_cast<std::size_t>(cpu_threads)), cpu_(pool_), use_fake_(fake_clock) {
  auto& stats = script_stats();
  stats.calls = 0;
  stats.in_flight = 0;
  stats.peak_in_flight = 0;
  stats.prompts.clear();
  stats.params.clear();
  stats.image_counts.clear();
  register_builtin_plugins(registry_);
  registry_.add(script_provider_descriptor(), "test");
  log_ = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
}

EngineHarness::~EngineHarness() { pool_.join(); }

Host EngineHarness::host() {
  Host h;
  h.log = log_;
  h.clock = use_fake_ ? static_cast<Clock*>(&fake_clock_) : &system_clock_;
  h.cpu = &cpu_;
  h.metrics = &metrics_;
  return h;
}

JobResult EngineHarness::run(const std::string& yaml, JobRequest request,
                             const std::map<std::string, std::string>& env, ItemSink* items) {
  LoadOptions options;
  options.env_overrides = env;
  auto pipeline =
      std::make_shared<const Pipeline>(load_pipeline_text(yaml, "test.yaml", registry_, options));
  Engine engine(pipeline, host());
  JobResult result;
  std::exception_ptr error;
  asio::co_spawn(
      io_,
      [&]() -> Task<void> {
        result = co_await engine.run(request, new_job_id(), {}, items);
        last_scope_ = job_scope(result, request, true);
        co_await engine.notify(result, request);
      },
      [&](std::exception_ptr e) { error = e; });
  io_.restart();
  io_.run();
  if (error) std::rethrow_exception(error);
  return result;
}

}  // namespace imagepipe::testing
