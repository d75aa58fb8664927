#include "serve_providers.hpp"

#include <map>

namespace imagepipe::serve {

using nlohmann::json;

json providers_listing(const PipelineSet& pipelines) {
  std::map<std::string, json> by_name;  // sorted by plugin name
  for (const auto& served : pipelines.all) {
    const auto& p = *served->pipeline;
    for (const auto& step : p.steps)
    for (const auto& action : step.alternatives)
    for (std::size_t i = 0; i < action.providers.size(); ++i) {
      const auto& entry = action.providers[i];
      const auto* d = entry.plugin.descriptor;
      json& provider = by_name[entry.plugin.use];
      if (provider.is_null()) {
        provider = {{"name", entry.plugin.use}, {"used_by", json::array()}};
        if (d) {
          provider["version"] = d->version;
          provider["summary"] = d->summary;
          provider["capabilities"] = d->capabilities;
        }
      }
      json fall_through = json::array();
      for (auto cls : entry.fall_through_on) fall_through.push_back(to_string(cls));
      json use = {{"pipeline", p.name},
                                     {"step", step.name},
                                     {"position", i},
                                     {"fall_through_on", std::move(fall_through)},
                                     {"limit",
                                      {{"in_flight", entry.limit.max_in_flight},
                                       {"per_minute", entry.limit.requests_per_minute}}},
                                     {"retry", {{"attempts", entry.retry.max_attempts}}},
                                     {"runnable", served->engine != nullptr}};
      if (!action.name.empty()) use["alternative"] = action.name;
      provider["used_by"].push_back(std::move(use));
    }
  }
  json list = json::array();
  for (auto& [name, provider] : by_name) list.push_back(std::move(provider));
  return {{"providers", std::move(list)}};
}

}  // namespace imagepipe::serve
