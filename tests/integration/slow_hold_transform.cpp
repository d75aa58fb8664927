// A transform for the daemon's tests: keeps its input's pixels for `delay_ms` on the CPU
// pool and passes them on unchanged, so a test can hold decoded pixels for a known time
// (providers receive encoded bytes: they hold no pixels).
#include <chrono>
#include <thread>

#include <boost/config.hpp>

#include "imagepipe/plugin.hpp"

namespace imagepipe {
namespace {

constexpr const char* kDelayMs = "delay_ms";

class SlowHold final : public Transform {
 public:
  explicit SlowHold(const PluginArgs& args) : delay_(args.options.at(kDelayMs).get<int>()) {}

  std::vector<Artifact> apply(Artifact in, const ItemContext&) override {
    std::this_thread::sleep_for(delay_);
    return {std::move(in)};
  }

 private:
  std::chrono::milliseconds delay_;
};

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN(transform_slow_hold) {
  using namespace imagepipe;
  PluginDescriptor d;
  d.name = "slow-hold";
  d.version = "1.0.0";
  d.summary = "Test transform: holds its input's pixels for a while.";
  d.description = "For the daemon's tests: decodes (needs pixels), waits, passes them on.";
  d.options_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"properties",
       {{kDelayMs,
         {{"type", "integer"}, {"minimum", 0}, {"default", 0}, {"description", "How long."}}}}}};
  d.factory =
      TransformFactory{[](const PluginArgs& args) { return std::make_unique<SlowHold>(args); }};
  return d;
}

extern "C" BOOST_SYMBOL_EXPORT const imagepipe_plugin_entry imagepipe_plugin{
    IMAGEPIPE_ABI_VERSION, "transform_slow_hold", &imagepipe_descriptor_transform_slow_hold,
    IMAGEPIPE_BUILD_SIGNATURE};
