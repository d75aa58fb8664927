// What every check of one pipeline file shares: the document with its positions, the
// plugins, the environment expansion's findings and the diagnostics collected so far.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/env_expand.hpp"
#include "config/yaml_document.hpp"
#include "imagepipe/pipeline.hpp"

namespace imagepipe::config {

struct LoadContext {
  const YamlDocument& document;
  const PluginRegistry& registry;
  const EnvironmentExpansion& environment;
  std::vector<Diagnostic>& diagnostics;
  std::vector<std::string> secrets;

  void report(Diagnostic diagnostic) { diagnostics.push_back(std::move(diagnostic)); }

  // Compiles the template at `pointer`. A syntax error is reported once: the environment
  // pass already reported those it could see.
  std::optional<Template> compile_template(const std::string& pointer, const nlohmann::json& raw);

  // The typed reading of a string that was exactly one environment variable
  // ("${CONC:-4}" → 4), when it reads as something other than text.
  std::optional<nlohmann::json> typed_variable(const std::string& pointer,
                                               const nlohmann::json& value) const;
};

// How a value reads in a message: 'text', 42, true, a mapping, a list, nothing.
std::string describe_value(const nlohmann::json& value);

}  // namespace imagepipe::config
