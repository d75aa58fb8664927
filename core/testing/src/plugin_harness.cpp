#include "imagepipe/testing/plugin_harness.hpp"

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <thread>

#include "imagepipe/http_client.hpp"
#include "imagepipe/registry.hpp"

namespace imagepipe::testing {

struct PluginHarness::State {
  // Declared first, destroyed last: the plugin's code lives in the library it holds.
  std::unique_ptr<PluginRegistry> registry;
  const PluginDescriptor* plugin = nullptr;
  asio::io_context io;
  asio::thread_pool pool{1};
  CpuPool cpu{pool};
  VirtualClock clock;
  Metrics metrics;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> log_sink =
      std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  std::unique_ptr<BeastHttpClient> http;
  Host host;

  explicit State(const PluginDescriptor* p) : plugin(p) {
    log_sink->set_pattern("%l: %v");
    auto log = std::make_shared<spdlog::logger>("plugin", log_sink);
    log->set_level(spdlog::level::debug);
    http = std::make_unique<BeastHttpClient>(io.get_executor());
    host.log = log;
    host.clock = &clock;
    host.cpu = &cpu;
    host.http = http.get();
    host.metrics = &metrics;
  }
  ~State() {
    http.reset();  // its pooled connections belong to io
    pool.join();
  }
};

PluginHarness::PluginHarness(std::unique_ptr<State> state) : state_(std::move(state)) {}

PluginHarness::PluginHarness(const PluginDescriptor& plugin)
    : state_(std::make_unique<State>(&plugin)) {}

PluginHarness PluginHarness::load(const std::filesystem::path& library) {
  auto registry = std::make_unique<PluginRegistry>();
  try {
    registry->load_library(library);
  } catch (const PluginLoadError& e) {
    throw std::runtime_error(e.what());
  }
  const PluginDescriptor* found = nullptr;
  for (const RegisteredPlugin& p : registry->all())
    if (p.origin == library.string()) found = p.descriptor;
  if (found == nullptr)
    throw std::runtime_error(library.string() + ": no plugin registered from it");
  auto state = std::make_unique<State>(found);
  state->registry = std::move(registry);
  return PluginHarness(std::move(state));
}

PluginHarness::~PluginHarness() = default;
PluginHarness::PluginHarness(PluginHarness&&) noexcept = default;
PluginHarness& PluginHarness::operator=(PluginHarness&&) noexcept = default;

const PluginDescriptor& PluginHarness::descriptor() const { return *state_->plugin; }

nlohmann::json PluginHarness::options(const nlohmann::json& with) const {
  OptionCheck check = check_options(*state_->plugin, with);
  if (check.ok()) return check.options;
  std::string issues;
  for (const OptionIssue& issue : check.issues)
    issues += "\n  " + (issue.pointer.empty() ? "(options)" : issue.pointer) + ": " + issue.message;
  throw std::invalid_argument(state_->plugin->name + ": options do not validate:" + issues);
}

namespace {

template <class Factory>
auto build(const PluginDescriptor& plugin, const Host& host, const nlohmann::json& options,
           const char* kind) {
  const auto* factory = std::get_if<Factory>(&plugin.factory);
  if (factory == nullptr)
    throw std::invalid_argument(plugin.name + " is a " + std::string(to_string(plugin.kind())) +
                                ", not a " + kind);
  return (*factory)(PluginArgs{host, options});
}

}  // namespace

std::unique_ptr<Provider> PluginHarness::provider(const nlohmann::json& with) {
  return build<ProviderFactory>(*state_->plugin, state_->host, options(with), "provider");
}
std::unique_ptr<Transform> PluginHarness::transform(const nlohmann::json& with) {
  return build<TransformFactory>(*state_->plugin, state_->host, options(with), "transform");
}
std::unique_ptr<Storage> PluginHarness::storage(const nlohmann::json& with) {
  return build<StorageFactory>(*state_->plugin, state_->host, options(with), "storage");
}
std::unique_ptr<Notifier> PluginHarness::notifier(const nlohmann::json& with) {
  return build<NotifierFactory>(*state_->plugin, state_->host, options(with), "notifier");
}
std::unique_ptr<Guard> PluginHarness::guard(const nlohmann::json& with) {
  return build<GuardFactory>(*state_->plugin, state_->host, options(with), "guard");
}

std::vector<Artifact> PluginHarness::apply(const nlohmann::json& with, Image image) {
  ItemContext item;
  item.job_id = "test-job";
  item.name = "test.png";
  item.log = state_->host.log;
  return transform(with)->apply(Artifact::from_pixels(std::move(image)), item);
}

ProviderResult PluginHarness::call(const nlohmann::json& with, ProviderRequest request) {
  ItemContext item;
  item.job_id = "test-job";
  item.name = "test.png";
  item.log = state_->host.log;
  if (request.item == nullptr) request.item = &item;
  auto instance = provider(with);
  return run(instance->run(std::move(request)));
}

void PluginHarness::run(Task<void> task) {
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(executor(), std::move(task), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  run_until(done);
  if (error) std::rethrow_exception(error);
}

asio::any_io_executor PluginHarness::executor() { return state_->io.get_executor(); }

void PluginHarness::run_until(const bool& done) {
  state_->io.restart();
  while (!done) state_->io.run_one();
}

const Host& PluginHarness::host() const { return state_->host; }
VirtualClock& PluginHarness::clock() { return state_->clock; }
Metrics& PluginHarness::metrics() { return state_->metrics; }

std::vector<std::string> PluginHarness::log_lines() const {
  return state_->log_sink->last_formatted();
}

Image solid_image(int width, int height, std::vector<std::uint8_t> colour) {
  Image image(width, height, static_cast<int>(colour.size()));
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) std::copy(colour.begin(), colour.end(), image.at(x, y));
  return image;
}

}  // namespace imagepipe::testing
