// Plugin documentation generated from descriptors: `imagepipe plugins describe` and the
// committed reference docs/plugins.md come from the same code, so they cannot drift.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "imagepipe/registry.hpp"

namespace imagepipe {

// One row per option: name, type, constraints, default, secret, description, examples.
struct OptionDoc {
  std::string name;
  std::string type;
  std::string constraints;  // "1..100", "png | jpeg | webp", ...
  std::string default_value;
  bool required = false;
  bool secret = false;
  std::string description;
  std::string example;
};
std::vector<OptionDoc> option_docs(const PluginDescriptor& descriptor);

std::string describe_plugin_text(const RegisteredPlugin& plugin);
nlohmann::json describe_plugin_json(const RegisteredPlugin& plugin);
// The whole reference, built-in plugins only (external ones vary by machine).
std::string plugin_reference_markdown(const PluginRegistry& registry);

}  // namespace imagepipe
