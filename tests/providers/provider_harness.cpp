#include "provider_harness.hpp"

#include <spdlog/sinks/ostream_sink.h>

#include "support/images.hpp"

namespace imagepipe::testing {

namespace {

// Free coroutines rather than coroutine lambdas (g++ 12).
Task<void> run_job(Engine& engine, const JobRequest& request, JobResult& out) {
  const std::string id = new_job_id();
  out = co_await engine.run(request, id);
}

Task<void> run_provider(Provider& provider, ProviderRequest& request, ProviderResult& out) {
  out = co_await provider.run(std::move(request));
}

}  // namespace

class ProviderHarness::StampingClient final : public HttpClient {
 public:
  StampingClient(HttpClient& inner, FakeClock& clock) : inner_(inner), clock_(clock) {}
  Task<HttpResponse> send(HttpRequest request) override {
    {
      std::lock_guard lock(mu_);
      times_.push_back(static_cast<long long>(clock_.elapsed().count()));
    }
    co_return co_await inner_.send(std::move(request));
  }
  std::vector<long long> times() const {
    std::lock_guard lock(mu_);
    return times_;
  }

 private:
  HttpClient& inner_;
  FakeClock& clock_;
  mutable std::mutex mu_;
  std::vector<long long> times_;
};

std::vector<long long> ProviderHarness::send_times() const { return stamping_->times(); }

ProviderHarness::ProviderHarness() {
  fake_.stamp = [this] { return static_cast<long long>(clock_.elapsed().count()); };
  register_builtin_plugins(registry_);
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*log_stream_);
  log_ = std::make_shared<spdlog::logger>("providers", sink);
  log_->set_level(spdlog::level::debug);
  HttpClientOptions options;
  options.log = log_;
  http_ = std::make_unique<BeastHttpClient>(io_.get_executor(), options);
  stamping_ = std::make_unique<StampingClient>(*http_, clock_);
}

ProviderHarness::~ProviderHarness() {
  stamping_.reset();
  pool_.join();
}

Host ProviderHarness::host() {
  Host h;
  h.log = log_;
  h.clock = &clock_;
  h.cpu = &cpu_;
  h.http = stamping_.get();
  h.metrics = &metrics_;
  return h;
}

JobResult ProviderHarness::run(const std::string& yaml, JobRequest request,
                               std::map<std::string, std::string> env) {
  env.emplace("FAKE_OPENAI", fake_.openai_base());
  env.emplace("FAKE_ROOT", fake_.root());
  env.emplace("OPENAI_KEY", fake_.openai_key);
  env.emplace("AZURE_KEY", fake_.azure_key);
  env.emplace("FLUX_KEY", fake_.flux_key);
  LoadOptions options;
  options.env_overrides = env;
  auto pipeline =
      std::make_shared<const Pipeline>(load_pipeline_text(yaml, "test.yaml", registry_, options));
  Engine engine(pipeline, host());
  JobResult result;
  std::exception_ptr error;
  asio::co_spawn(io_, run_job(engine, request, result), [&](std::exception_ptr e) { error = e; });
  io_.restart();
  io_.run();
  if (error) std::rethrow_exception(error);
  return result;
}

ProviderResult ProviderHarness::call(const std::string& name, const nlohmann::json& with,
                                     ProviderRequest request) {
  const auto& descriptor = builtin_plugin(PluginKind::provider, name);
  const nlohmann::json options = checked_options(descriptor, with);
  const Host h = host();
  PluginArgs args{h, options};
  auto provider = std::get<ProviderFactory>(descriptor.factory)(args);
  ProviderResult result;
  std::exception_ptr error;
  asio::co_spawn(io_, run_provider(*provider, request, result),
                 [&](std::exception_ptr e) { error = e; });
  io_.restart();
  io_.run();
  if (error) std::rethrow_exception(error);
  return result;
}

JobRequest image_request(const std::string& bytes, const std::string& prompt,
                         const std::string& filename) {
  JobRequest r;
  r.body = {{"prompt", prompt}, {"image", base64_encode(bytes)}, {"filename", filename}};
  return r;
}

Image output_image(const ItemResult& item, std::size_t n) {
  if (item.outputs.size() <= n || !item.outputs[n].data) {
    ADD_FAILURE() << "item " << item.name << " has no output " << n << " (" << item.error << ")";
    return Image(1, 1, 3);
  }
  return decode_image(*item.outputs[n].data);
}

}  // namespace imagepipe::testing
