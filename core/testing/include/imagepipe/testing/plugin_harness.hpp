// Tests for a plugin, in or out of this repository: builds it from a `with:` block the way
// the engine does (checked against its schema, defaults filled in), hands it a host with a
// virtual clock, a CPU pool, a real HTTP client and a log it can read back, and runs its
// coroutines to completion.
//
//   auto sepia = imagepipe::testing::PluginHarness::load(SEPIA_LIBRARY);
//   auto out = sepia.apply({{"strength", 1}}, imagepipe::testing::solid_image(8, 8, {200, 100,
//   50}));
//
//   auto store = harness.storage({{"root", dir}});
//   harness.run(store->put("a.png", bytes, {}));
//
// Link imagepipe::testing (find_package(imagepipe) provides it).
#pragma once

#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "imagepipe/asio.hpp"
#include "imagepipe/host.hpp"
#include "imagepipe/plugin.hpp"
#include "imagepipe/testing/virtual_clock.hpp"

namespace imagepipe::testing {

class PluginHarness {
 public:
  // The plugin in a library file, loaded as `imagepipe --plugin-dir` would load it: the ABI
  // version and build signature are checked, so a plugin that loads here loads there.
  // Throws std::runtime_error naming the file and the reason.
  static PluginHarness load(const std::filesystem::path& library);
  // A plugin linked into the test.
  explicit PluginHarness(const PluginDescriptor& plugin);
  ~PluginHarness();
  PluginHarness(PluginHarness&&) noexcept;
  PluginHarness& operator=(PluginHarness&&) noexcept;

  const PluginDescriptor& descriptor() const;
  // `with` as the factory would receive it. Throws std::invalid_argument listing every
  // issue ("/strength: must be <= 1, got 2") when the schema refuses it.
  nlohmann::json options(const nlohmann::json& with) const;

  // Instances, built by the plugin's factory from `with`; the kind must match.
  std::unique_ptr<Provider> provider(const nlohmann::json& with = nlohmann::json::object());
  std::unique_ptr<Transform> transform(const nlohmann::json& with = nlohmann::json::object());
  std::unique_ptr<Storage> storage(const nlohmann::json& with = nlohmann::json::object());
  std::unique_ptr<Notifier> notifier(const nlohmann::json& with = nlohmann::json::object());
  std::unique_ptr<Guard> guard(const nlohmann::json& with = nlohmann::json::object());

  // A transform applied to one image, as the engine would (an item named "test.png").
  std::vector<Artifact> apply(const nlohmann::json& with, Image image);
  // A provider called once.
  ProviderResult call(const nlohmann::json& with, ProviderRequest request);

  // Runs a coroutine to completion on the harness's event loop; rethrows what it threw.
  template <class T>
  T run(Task<T> task) {
    std::optional<T> result;
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(executor(), std::move(task), [&](std::exception_ptr e, T value) {
      error = e;
      if (!e) result.emplace(std::move(value));
      done = true;
    });
    run_until(done);
    if (error) std::rethrow_exception(error);
    return std::move(*result);
  }
  void run(Task<void> task);

  const Host& host() const;
  VirtualClock& clock();
  Metrics& metrics();
  // Every line the plugin logged, formatted "level: message".
  std::vector<std::string> log_lines() const;

 private:
  struct State;
  explicit PluginHarness(std::unique_ptr<State> state);
  asio::any_io_executor executor();
  // Runs the loop until `done`: pooled HTTP connections may keep it busy for ever after.
  void run_until(const bool& done);
  std::unique_ptr<State> state_;
};

// A width x height image of one colour (3 or 4 channels), for tests' inputs.
Image solid_image(int width, int height, std::vector<std::uint8_t> colour);

}  // namespace imagepipe::testing
