// Reading the serve config's YAML: errors at "file:line:col", and mappings whose unknown
// keys are refused with the allowed ones listed.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include <yaml-cpp/yaml.h>

#include "serve_config.hpp"

namespace imagepipe::serve {

[[noreturn]] inline void fail_at(const std::filesystem::path& file, const YAML::Node& node,
                                 const std::string& message) {
  const auto mark = node.Mark();
  throw ConfigError(file.string() + ":" + std::to_string(mark.line + 1) + ":" +
                    std::to_string(mark.column + 1) + ": " + message);
}

// Calls the handler of each key; an unknown key is an error listing the allowed ones.
inline void read_mapping(
    const std::filesystem::path& file, const YAML::Node& node, const std::string& where,
    const std::map<std::string, std::function<void(const YAML::Node&)>>& handlers) {
  if (!node.IsMap()) fail_at(file, node, where + " must be a mapping");
  for (const auto& entry : node) {
    const auto key = entry.first.as<std::string>();
    const auto it = handlers.find(key);
    if (it == handlers.end()) {
      std::string allowed;
      for (const auto& [name, _] : handlers) allowed += (allowed.empty() ? "" : ", ") + name;
      fail_at(file, entry.first,
              "unknown key '" + key + "' in " + where + " (allowed: " + allowed + ")");
    }
    it->second(entry.second);
  }
}

}  // namespace imagepipe::serve
