// Environment placeholders, expanded in every string scalar when the YAML loads:
// ${NAME} and ${NAME:-default}. Placeholders whose first name is a runtime root
// (${job.id}, ${request.body.x}) are left in place for Template::compile, but their syntax
// is checked here, where the column in the file is still known.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/yaml_document.hpp"
#include "imagepipe/pipeline.hpp"

namespace imagepipe::config {

struct EnvironmentExpansion {
  std::vector<std::string> missing;  // unset variables, in order of first use
  // Environment values put into each string that had a variable (by JSON pointer): the
  // secrets, when the option there is writeOnly.
  std::map<std::string, std::vector<std::string>> substituted;
  std::set<std::string> runtime_only;  // strings that are exactly one runtime placeholder
  // Strings that were exactly one environment placeholder. YAML forces quotes on them
  // inside { } and [ ], so where a number or boolean is expected they are read as one
  // (as docker compose does); a literal quoted "4" stays text.
  std::set<std::string> whole_variable;
  std::set<std::string> unresolved;       // strings that used an unset variable
  std::set<std::string> template_errors;  // strings already reported as bad templates
};

EnvironmentExpansion expand_environment(YamlDocument& document, const LoadOptions& options,
                                        std::vector<Diagnostic>& diagnostics);

// The diagnostic for a template that does not compile, pointing into the string.
Diagnostic template_diagnostic(const YamlDocument& document, const std::string& pointer,
                               const std::string& text, const TemplateError& error);

}  // namespace imagepipe::config
