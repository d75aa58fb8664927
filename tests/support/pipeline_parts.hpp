// The five-stage view of a loaded pipeline for tests: its first provider chain and its
// first transforms step (empty when it has none).
#pragma once

#include <vector>

#include "imagepipe/pipeline.hpp"

namespace imagepipe::testing {

inline const std::vector<ProviderEntry>& chain_of(const Pipeline& p) {
  static const std::vector<ProviderEntry> none;
  for (const auto& step : p.steps)
    if (step.calls_provider()) return step.alternatives.front().providers;
  return none;
}

inline const std::vector<PluginUse>& transforms_of(const Pipeline& p) {
  static const std::vector<PluginUse> none;
  for (const auto& step : p.steps)
    if (!step.calls_provider()) return step.alternatives.front().transforms;
  return none;
}

}  // namespace imagepipe::testing
